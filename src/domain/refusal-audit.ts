// Refusals that any caller can cause for free — a throttled caller, an unknown key id, a key
// of another org — would let anyone write audit rows into a victim org's log as fast as they
// can send requests (one row per request, ~800 rows a second, was measured). They are
// aggregated instead: at most one event per (org, source, reason) per minute. The first
// refusal is written at once (so a lone probe shows up at once); those that follow within the
// minute are counted, and written as one event with their count when the next minute's first
// refusal arrives (or by a timer when none does), with the first and last times and a few of
// the key ids tried. The source is the throttle's (an IPv4 address, an IPv6 /64). Refusals that cost the caller a
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

/** The exchange's (throttled, unknown_key, org_mismatch, ip_not_allowed) and sign-in's (throttled). */
export type AggregatedReason = string;

export interface AggregatedRefusal {
  readonly orgId: string;
  readonly ip: string;
  /** What was tried: a key id for the exchange, a person's id for sign-in. */
  readonly targetId: string;
  readonly reason: AggregatedReason;
  /** More details, as of the refusal whose event is written (e.g. retry_after_seconds). */
  readonly details?: Record<string, unknown>;
}

export interface RefusalAudit {
  /**
   * Counts the refusal into its (org, source, reason) window. Resolves once the event it
   * writes, if any (the first of a minute), is written; a counted one resolves at once.
   */
  add(refusal: AggregatedRefusal): Promise<void>;
  /** Writes the counts of the windows that have ended (of every window with `all`, as on shutdown). */
  flush(options?: { all?: boolean }): Promise<void>;
  start(): void;
  /** Stops the timer and writes every window still open. */
  stop(): Promise<void>;
}

export interface RefusalAuditOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The audit action of the events (the exchange's `token.refused`, sign-in's `session.refused`). */
  readonly action: string;
  /** The events' target type and the details field listing the ids tried; default `key` and `key_ids`. */
  readonly target?: { readonly type: string; readonly idsField: string };
  readonly windowMs?: number;
  readonly maxPending?: number;
}

const WINDOW_MS = 60_000;
const MAX_PENDING = 10_000;
/** Key ids named in one event at most: enough to see what was tried, not a list to page through. */
const KEY_IDS_KEPT = 5;
const FLUSH_EVERY_MS = 5_000;

/** The refusals of one minute not written yet. */
interface Pending {
  orgId: string;
  ip: string;
  reason: AggregatedReason;
  count: number;
  firstAt: number;
  lastAt: number;
  targetIds: string[];
  details: Record<string, unknown> | undefined;
}

interface Window {
  readonly endsAt: number;
  /** Counted since the window's event was written; null when nothing is. */
  pending: Pending | null;
}

export function createRefusalAudit(options: RefusalAuditOptions): RefusalAudit {
  const { db, clock, logger } = options;
  const windowMs = options.windowMs ?? WINDOW_MS;
  const maxPending = options.maxPending ?? MAX_PENDING;
  const target = options.target ?? { type: 'key', idsField: 'key_ids' };
  // Insertion order is opening order, and every window lasts as long: the first end first.
  const windows = new Map<string, Window>();
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  async function write(pending: Pending): Promise<void> {
    try {
      await recordAudit(db, clock, {
        orgId: pending.orgId,
        actor: 'anonymous',
        action: options.action,
        targetType: target.type,
        // One id tried: the event is about that key (or person); several: about none in particular.
        targetId: pending.targetIds.length === 1 ? pending.targetIds[0]! : null,
        ip: pending.ip,
        details: {
          ...pending.details,
          reason: pending.reason,
          count: pending.count,
          first_at: new Date(pending.firstAt).toISOString(),
          last_at: new Date(pending.lastAt).toISOString(),
          [target.idsField]: pending.targetIds,
        },
      });
    } catch (error) {
      logger.error({ err: error, org_id: pending.orgId, reason: pending.reason, count: pending.count }, 'writing an aggregated refusal event failed');
    }
  }

  function queue(pending: Pending): Promise<void> {
    writing = writing.then(() => write(pending));
    return writing;
  }

  function count(into: Pending | null, refusal: AggregatedRefusal, now: number): Pending {
    const id = refusal.targetId.slice(0, 64);
    if (into === null) return { orgId: refusal.orgId, ip: refusal.ip, reason: refusal.reason, count: 1, firstAt: now, lastAt: now, targetIds: [id], details: refusal.details };
    into.count++;
    into.lastAt = now;
    into.details = refusal.details;
    if (into.targetIds.length < KEY_IDS_KEPT && !into.targetIds.includes(id)) into.targetIds.push(id);
    return into;
  }

  const audit: RefusalAudit = {
    add(refusal) {
      const now = clock.now();
      const key = `${refusal.orgId}|${throttleSubject(refusal.ip)}|${refusal.reason}`;
      const window = windows.get(key);
      if (window !== undefined && window.endsAt > now) {
        window.pending = count(window.pending, refusal, now);
        return Promise.resolve();
      }
      // A new minute: its first refusal is written at once, together with what the last
      // minute counted and had not written yet — one event, so never two in a minute.
      if (window !== undefined) windows.delete(key);
      else if (windows.size >= maxPending) {
        const [oldestKey, oldest] = windows.entries().next().value as [string, Window];
        windows.delete(oldestKey);
        if (oldest.pending !== null) void queue(oldest.pending);
      }
      windows.set(key, { endsAt: now + windowMs, pending: null });
      return queue(count(window?.pending ?? null, refusal, now));
    },

    flush({ all = false } = {}) {
      const now = clock.now();
      for (const [key, window] of windows) {
        if (!all && window.endsAt > now) break;
        windows.delete(key);
        if (window.pending !== null) void queue(window.pending);
      }
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
