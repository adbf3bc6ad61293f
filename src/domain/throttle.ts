// Failed-exchange throttling, per client IP and per (client IP, key id): failures from one
// address never lock the key's owner out from another.
//
// Counts are kept in fixed one-minute windows, in memory, per process, and the number of
// windows each counter keeps is bounded: a flood of failures from ever new addresses (or
// ever new key ids) costs at most MAX_TRACKED windows per counter, ~200 bytes each (30 MiB
// for all three when full), instead of growing the heap until the process dies. When a
// counter is full, windows that have ended go first, then the ones opened longest ago:
// under such a flood the oldest counts are forgotten early, which weakens the throttle for
// those callers but never blocks anyone wrongly.
import type { Clock } from './clock.js';

export interface Throttle {
  /** Seconds until the caller may try again, or null when not throttled. */
  blockedFor(ip: string, keyId: string): Promise<number | null>;
  recordFailure(ip: string, keyId: string): Promise<void>;
  /** True once per minute per (ip, key id), so a throttled flood writes one audit event, not thousands. */
  claimAuditSlot(ip: string, keyId: string): Promise<boolean>;
}

export interface ThrottleLimits {
  readonly keyFailuresPerMinute: number;
  readonly ipFailuresPerMinute: number;
}

/** Windows each counter keeps open at most (per IP, per (IP, key id), audit slots). */
const MAX_TRACKED = 50_000;

const WINDOW_MS = 60_000;

interface Window {
  count: number;
  readonly endsAt: number;
}

/** Counts per key in fixed windows that open at a key's first hit. */
function createWindows(clock: Clock, maxTracked: number) {
  // A Map iterates in insertion order and a window is inserted when it opens, so the first
  // entries are the ones that end first.
  const windows = new Map<string, Window>();

  function open(key: string, now: number): Window | undefined {
    const window = windows.get(key);
    if (window !== undefined && window.endsAt <= now) {
      windows.delete(key);
      return undefined;
    }
    return window;
  }

  return {
    /** The count of the key's open window and the ms left in it, or null when none is open. */
    peek(key: string): { count: number; msLeft: number } | null {
      const now = clock.now();
      const window = open(key, now);
      return window === undefined ? null : { count: window.count, msLeft: window.endsAt - now };
    },
    /** Counts one for the key, opening its window if none is open; returns the window's count. */
    hit(key: string): number {
      const now = clock.now();
      const window = open(key, now);
      if (window !== undefined) return ++window.count;
      if (windows.size >= maxTracked) {
        // Make room for a tenth of the bound at once (a pass per entry would cost a flood
        // a scan of the map's front on every new address): every window that has ended,
        // and then, if that is not enough, the oldest open ones.
        let toDrop = Math.max(1, Math.floor(maxTracked / 10));
        for (const [oldKey, oldest] of windows) {
          if (toDrop <= 0 && oldest.endsAt > now) break;
          windows.delete(oldKey);
          toDrop--;
        }
      }
      windows.set(key, { count: 1, endsAt: now + WINDOW_MS });
      return 1;
    },
  };
}

export function createThrottle(limits: ThrottleLimits, clock: Clock, options: { maxTracked?: number } = {}): Throttle {
  const maxTracked = options.maxTracked ?? MAX_TRACKED;
  const perIp = createWindows(clock, maxTracked);
  const perKey = createWindows(clock, maxTracked);
  const audit = createWindows(clock, maxTracked);
  const pair = (ip: string, keyId: string) => `${ip}|${keyId.slice(0, 64)}`;

  return {
    async blockedFor(ip, keyId) {
      const byIp = perIp.peek(ip);
      const byKey = perKey.peek(pair(ip, keyId));
      let waitMs = 0;
      if (byIp && byIp.count >= limits.ipFailuresPerMinute) waitMs = Math.max(waitMs, byIp.msLeft);
      if (byKey && byKey.count >= limits.keyFailuresPerMinute) waitMs = Math.max(waitMs, byKey.msLeft);
      return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : null;
    },
    async recordFailure(ip, keyId) {
      perIp.hit(ip);
      perKey.hit(pair(ip, keyId));
    },
    async claimAuditSlot(ip, keyId) {
      return audit.hit(pair(ip, keyId)) === 1;
    },
  };
}
