// Refusals that any caller can cause for free — a throttled caller, an unknown key id, a key
// of another org — would let anyone write audit rows into a victim org's log as fast as they
// can send requests (one row per request, ~800 rows a second, was measured). They are
// aggregated instead: at most one event per (org, source, reason) per minute, written when the
// minute ends, with the count, the first and last times and a few of the key ids tried. The
// source is the throttle's (an IPv4 address, an IPv6 /64). Refusals that cost the caller a
// real credential (a wrong secret counted by the throttle, a revoked or expired key) stay one
// event each, written at once by the exchange.
//
// Windows are kept in memory, per process (several instances each write theirs), at most
// MAX_PENDING of them: when full, the oldest is written early, so a flood from ever new
// sources costs rows at the rate new sources appear, never memory.
import type { Logger } from 'pino';
import type { Db } from '../store/database.js';
import { recordAudit } from './audit.js';
import type { Clock } from './clock.js';
import { throttleSubject } from './throttle-subject.js';

export type AggregatedReason = 'throttled' | 'unknown_key' | 'org_mismatch';

export interface AggregatedRefusal {
  readonly orgId: string;
  readonly ip: string;
  readonly keyId: string;
  readonly reason: AggregatedReason;
}

export interface RefusalAudit {
  /** Counts the refusal into its (org, source, reason) window; never waits for the database. */
  add(refusal: AggregatedRefusal): void;
  /** Writes the windows that have ended (every window with `all`, as on shutdown). */
  flush(options?: { all?: boolean }): Promise<void>;
  start(): void;
  /** Stops the timer and writes every window still open. */
  stop(): Promise<void>;
}

export interface RefusalAuditOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The audit action of the events (the exchange's `token.refused`). */
  readonly action: string;
  readonly windowMs?: number;
  readonly maxPending?: number;
}

const WINDOW_MS = 60_000;
const MAX_PENDING = 10_000;
/** Key ids named in one event at most: enough to see what was tried, not a list to page through. */
const KEY_IDS_KEPT = 5;
const FLUSH_EVERY_MS = 5_000;

interface Window {
  readonly orgId: string;
  readonly ip: string;
  readonly reason: AggregatedReason;
  readonly firstAt: number;
  readonly endsAt: number;
  lastAt: number;
  count: number;
  readonly keyIds: string[];
}

export function createRefusalAudit(options: RefusalAuditOptions): RefusalAudit {
  const { db, clock, logger } = options;
  const windowMs = options.windowMs ?? WINDOW_MS;
  const maxPending = options.maxPending ?? MAX_PENDING;
  // Insertion order is opening order, and every window lasts as long: the first end first.
  const windows = new Map<string, Window>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  async function write(window: Window): Promise<void> {
    try {
      await recordAudit(db, clock, {
        orgId: window.orgId,
        actor: 'anonymous',
        action: options.action,
        targetType: 'key',
        // One key id tried: the event is about that key; several: about none in particular.
        targetId: window.keyIds.length === 1 ? window.keyIds[0]! : null,
        ip: window.ip,
        details: {
          reason: window.reason,
          count: window.count,
          first_at: new Date(window.firstAt).toISOString(),
          last_at: new Date(window.lastAt).toISOString(),
          key_ids: window.keyIds,
        },
      });
    } catch (error) {
      logger.error({ err: error, org_id: window.orgId, reason: window.reason, count: window.count }, 'writing an aggregated refusal event failed');
    }
  }

  function take(all: boolean): Window[] {
    const now = clock.now();
    const due: Window[] = [];
    for (const [key, window] of windows) {
      if (!all && window.endsAt > now) break;
      windows.delete(key);
      due.push(window);
    }
    return due;
  }

  const audit: RefusalAudit = {
    add(refusal) {
      const now = clock.now();
      const key = `${refusal.orgId}|${throttleSubject(refusal.ip)}|${refusal.reason}`;
      let window = windows.get(key);
      if (window !== undefined && window.endsAt <= now) {
        // Ended but not yet written: written now, and a new window opens for this refusal.
        windows.delete(key);
        const ended = window;
        writing = writing.then(() => write(ended));
        window = undefined;
      }
      if (window === undefined) {
        if (windows.size >= maxPending) {
          const [oldestKey, oldest] = windows.entries().next().value as [string, Window];
          windows.delete(oldestKey);
          writing = writing.then(() => write(oldest));
        }
        windows.set(key, { orgId: refusal.orgId, ip: refusal.ip, reason: refusal.reason, firstAt: now, lastAt: now, endsAt: now + windowMs, count: 1, keyIds: [refusal.keyId.slice(0, 64)] });
        return;
      }
      window.count++;
      window.lastAt = now;
      if (window.keyIds.length < KEY_IDS_KEPT && !window.keyIds.includes(refusal.keyId)) window.keyIds.push(refusal.keyId.slice(0, 64));
    },

    flush({ all = false } = {}) {
      const due = take(all);
      writing = writing.then(async () => {
        for (const window of due) await write(window);
      });
      return writing;
    },

    start() {
      if (timer) return;
      timer = setInterval(() => void audit.flush(), FLUSH_EVERY_MS);
      timer.unref();
    },

    async stop() {
      clearInterval(timer);
      timer = undefined;
      await audit.flush({ all: true });
    },
  };
  return audit;
}
