// Brute-force throttling of token exchanges, per client (see throttle-subject.ts: an IPv4
// address, or an IPv6 /64) and per (client, key id): failures from one client never lock the
// key's owner out from another.
//
// An attempt is counted before its secret is checked (reserve), and given back once the secret
// proved right (release), so however many guesses arrive together, at most the limit of them
// is ever checked, while legitimate clients are not counted at all. Cheap refusals (unknown
// key, org mismatch) are counted as failures at once. Counts live in fixed one-minute windows
// in a CounterStore: on PostgreSQL the database, so the limits hold for all instances
// together; on SQLite this process's memory. A window's row holds two numbers: `count`, the
// attempts being checked or failed, which decides whether a new attempt may be checked; and
// `failures`, which decides whether the caller is blocked until the window ends. A caller
// refused only because many of its attempts are still being checked is told to retry in a
// second, not blocked for the minute: a fleet restarting behind one address is not punished.
//
// What this process has learnt is blocked stays in memory until the window ends and is
// checked first, without I/O, so a blocked attacker costs no queries. Malformed credentials
// are counted in memory only: they are refused before any database work, and stay that way.
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { createBoundedWindows, type Windowed } from './bounded-windows.js';
import { memoryCounters, type CounterStore, type CounterWindow } from './counter-stores.js';
import { throttleSubject } from './throttle-subject.js';

export interface ThrottleLimits {
  readonly keyFailuresPerMinute: number;
  readonly ipFailuresPerMinute: number;
}

/** A granted attempt: settle it exactly once. Neither method rejects (see `settle`). */
export interface Reservation {
  readonly granted: true;
  /** The secret proved right: the attempt is given back and does not count. */
  release(): Promise<void>;
  /** The attempt failed: it stays counted, as a failure. */
  fail(): Promise<void>;
}

export type ReserveResult = Reservation | { readonly granted: false; readonly retryAfterSeconds: number };

export interface Throttle {
  /** Seconds until the caller may try again when this process knows it is blocked, else null. No I/O. */
  blockedFor(ip: string, keyId: string): number | null;
  /** Counts an attempt before its secret is checked; refused (with seconds to wait) beyond a limit. */
  reserve(ip: string, keyId: string): Promise<ReserveResult>;
  /** Counts a failure found without checking a secret; seconds to wait when it is beyond a limit, else null. */
  recordFailure(ip: string, keyId: string): Promise<number | null>;
  /** The same for malformed credentials, counted in this process only, so that junk costs no database work. */
  recordMalformed(ip: string, keyId: string): Promise<number | null>;
  /** Forgets windows that have ended; start() runs it every minute. */
  sweep(): Promise<void>;
  start(): void;
  stop(): void;
}

export interface ThrottleOptions {
  readonly limits: ThrottleLimits;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where attempts are counted; without one, in this process's memory. */
  readonly counters?: CounterStore;
  /** Entries each in-memory map keeps at most. */
  readonly maxTracked?: number;
  /**
   * What is counted, as the prefix of its counters' keys: `key` (the default) for exchanges,
   * per client and per (client, key id); `signin` for people's sign-ins, per client and per
   * (client, email). Each kind has counters of its own, so failed sign-ins never throttle a
   * client's exchanges, nor the reverse. `leak` counts leak reports (POST /v1/leaks), every
   * one of them, per client.
   */
  readonly kind?: 'key' | 'signin' | 'leak';
}

/**
 * Entries the blocked and audit maps keep at most, and the counters twice that (an address and
 * a pair per attempt): ~250 bytes each, so ~30 MiB when a flood from new addresses fills all.
 */
const MAX_TRACKED = 30_000;

const WINDOW_MS = 60_000;

/** Each kind's counters: per client, and per (client, key id or email). */
const PREFIXES = { key: ['ip', 'key'], signin: ['signin-ip', 'signin'], leak: ['leak-ip', 'leak'] } as const;

const ATTEMPT = { count: 1, failures: 0 };
const FAILURE = { count: 1, failures: 1 };
const GIVE_BACK = { count: -1, failures: 0 };
const FAILED = { count: 0, failures: 1 };

interface Subject {
  readonly key: string;
  readonly limit: number;
}

export function createThrottle(options: ThrottleOptions): Throttle {
  const { limits, clock, logger } = options;
  const maxTracked = options.maxTracked ?? MAX_TRACKED;
  const local = memoryCounters(2 * maxTracked);
  const shared = options.counters ?? local;
  const blocked = createBoundedWindows<Windowed>(maxTracked);
  let timer: NodeJS.Timeout | undefined;
  const [clientPrefix, pairPrefix] = PREFIXES[options.kind ?? 'key'];

  /** The address's counter first, then the pair's: every store statement locks rows in this order. */
  function subjectsOf(ip: string, keyId: string): [Subject, Subject] {
    const subject = throttleSubject(ip);
    return [
      { key: `${clientPrefix}:${subject}`, limit: limits.ipFailuresPerMinute },
      { key: `${pairPrefix}:${subject}|${keyId.slice(0, 64)}`, limit: limits.keyFailuresPerMinute },
    ];
  }

  const secondsUntil = (endsAt: number, now: number) => Math.max(1, Math.ceil((endsAt - now) / 1000));

  /** Remembers every subject whose failures reached its limit as blocked until its window ends. */
  function learn(subjects: readonly Subject[], windows: readonly CounterWindow[], now: number): void {
    for (const w of windows) {
      const subject = subjects.find((s) => s.key === w.key);
      if (subject !== undefined && w.failures >= subject.limit && w.endsAt > now) blocked.set(w.key, { endsAt: w.endsAt }, now);
    }
  }

  /** Seconds to wait when a count is beyond its limit: until the window ends when failures got it there, else a second. */
  function verdict(subjects: readonly Subject[], windows: readonly CounterWindow[], now: number): number | null {
    learn(subjects, windows, now);
    let wait: number | null = null;
    for (const w of windows) {
      const subject = subjects.find((s) => s.key === w.key);
      if (subject === undefined || w.count <= subject.limit) continue;
      const seconds = w.failures >= subject.limit ? secondsUntil(w.endsAt, now) : 1;
      wait = Math.max(wait ?? 0, seconds);
    }
    return wait;
  }

  /**
   * A settlement that cannot be written (the database just went away) is logged, not thrown:
   * the secret was checked already and the caller's answer does not depend on it, and the
   * attempt then stays counted until its window ends, which errs on the side of the limit.
   */
  async function settle(what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      logger.error({ err: error }, `throttle: ${what} failed`);
    }
  }

  async function count(store: CounterStore, ip: string, keyId: string): Promise<number | null> {
    const subjects = subjectsOf(ip, keyId);
    const now = clock.now();
    return verdict(subjects, await store.add(subjects.map((s) => s.key), FAILURE, now, now + WINDOW_MS), now);
  }

  const throttle: Throttle = {
    blockedFor(ip, keyId) {
      // Every exchange asks, warm ones included; with no caller blocked there is nothing to
      // look up, so the subjects are not even worked out.
      if (blocked.size === 0) return null;
      const now = clock.now();
      let endsAt = 0;
      for (const { key } of subjectsOf(ip, keyId)) endsAt = Math.max(endsAt, blocked.open(key, now)?.endsAt ?? 0);
      return endsAt > now ? secondsUntil(endsAt, now) : null;
    },

    async reserve(ip, keyId) {
      const subjects = subjectsOf(ip, keyId);
      const now = clock.now();
      const windows = await shared.add(subjects.map((s) => s.key), ATTEMPT, now, now + WINDOW_MS);
      const wait = verdict(subjects, windows, now);
      if (wait !== null) {
        // Not checked, so not counted: a refused attempt must not keep the count up after the
        // ones being checked have been given back.
        await settle('giving back a refused attempt', async () => void (await shared.amend(windows, GIVE_BACK)));
        return { granted: false, retryAfterSeconds: wait };
      }
      let settled = false;
      const once = (what: string, work: () => Promise<void>) => {
        if (settled) return Promise.resolve();
        settled = true;
        return settle(what, work);
      };
      return {
        granted: true,
        release: () => once('releasing an attempt', async () => void (await shared.amend(windows, GIVE_BACK))),
        fail: () => once('counting a failure', async () => learn(subjects, await shared.amend(windows, FAILED), clock.now())),
      };
    },

    recordFailure: (ip, keyId) => count(shared, ip, keyId),
    recordMalformed: (ip, keyId) => count(local, ip, keyId),

    async sweep() {
      const now = clock.now();
      blocked.sweep(now);
      await local.sweep(now);
      if (shared !== local) await shared.sweep(now);
    },

    start() {
      if (timer) return;
      timer = setInterval(() => {
        throttle.sweep().catch((error: unknown) => logger.warn({ err: error }, 'throttle: deleting ended windows failed'));
      }, WINDOW_MS);
      timer.unref();
    },

    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
  return throttle;
}
