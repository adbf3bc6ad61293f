// The throttle's counters in the database, so every instance on one PostgreSQL database counts
// against the same limit (domain/throttle.ts decides what the counts mean). Each change is one
// statement: an upsert is atomic per row, so attempts arriving together at any instances are
// each counted exactly once and each sees the count including itself.
//
// Why not rate-limiter-flexible's RateLimiterPostgres: it reads Date.now() inside its queries
// (our windows follow the injected clock, so tests move time instead of sleeping), it wants a
// raw pg pool and creates its own table outside our migrations, and it counts one number per
// key — the throttle needs two per row (attempts being checked or failed, and failures) to tell
// a caller that failed too often from one that merely arrived with many others at once.
//
// Every statement lists its rows in the caller's order and upserts them in that order, so the
// rows are locked in that order: the throttle always passes the address's row before the
// address-and-key row, and two statements can never wait on each other's rows.
import { sql } from 'kysely';
import { hasRowLocks, type Db } from './database.js';

/** One row's window after a change. */
export interface CounterWindow {
  readonly key: string;
  readonly count: number;
  readonly failures: number;
  readonly endsAt: number;
}

/** What a change adds to a row's window (negative to give an attempt back). */
export interface CounterChange {
  readonly count: number;
  readonly failures: number;
}

type Row = { key: string; count: number; failures: number; ends_at: number };

const toWindow = (row: Row): CounterWindow => ({ key: row.key, count: Number(row.count), failures: Number(row.failures), endsAt: Number(row.ends_at) });

/** Keeps the caller's order (RETURNING promises none), so windows line up with the keys passed. */
function inOrder(keys: readonly string[], rows: Row[]): CounterWindow[] {
  const byKey = new Map(rows.map((row) => [row.key, toWindow(row)]));
  return keys.flatMap((key) => byKey.get(key) ?? []);
}

/**
 * Adds `change` to each key's window open at `now`; a key with no open window (no row, or a
 * row whose window ended) gets a new one ending at `endsAt`, holding just `change`.
 */
export async function addToCounters(db: Db, keys: readonly string[], change: CounterChange, now: number, endsAt: number): Promise<CounterWindow[]> {
  const ended = sql<boolean>`${sql.ref('throttle_counters.ends_at')} <= ${now}`;
  const fresh = (column: 'count' | 'failures' | 'ends_at') => sql.ref(`excluded.${column}`);
  const kept = (column: 'count' | 'failures' | 'ends_at') => sql.ref(`throttle_counters.${column}`);
  const rows = await db
    .insertInto('throttle_counters')
    .values(keys.map((key) => ({ key, ends_at: endsAt, count: change.count, failures: change.failures })))
    .onConflict((conflict) =>
      conflict.column('key').doUpdateSet({
        count: sql<number>`case when ${ended} then ${fresh('count')} else ${kept('count')} + ${fresh('count')} end`,
        failures: sql<number>`case when ${ended} then ${fresh('failures')} else ${kept('failures')} + ${fresh('failures')} end`,
        ends_at: sql<number>`case when ${ended} then ${fresh('ends_at')} else ${kept('ends_at')} end`,
      }),
    )
    .returning(['key', 'count', 'failures', 'ends_at'])
    .execute();
  return inOrder(keys, rows);
}

/**
 * Adds `change` to each of `windows` that is still the key's open window (same end); a window
 * that has since ended and been replaced is left alone and not returned. A window that ended
 * and was swept comes back as an empty, ended row, which the next sweep removes: an upsert
 * rather than an update, only so that the rows are locked in the order given.
 */
export async function amendCounters(db: Db, windows: readonly CounterWindow[], change: CounterChange): Promise<CounterWindow[]> {
  if (windows.length === 0) return [];
  // Never below zero: two attempts of a swept window given back would take its empty row to -1.
  const plus = (column: 'count' | 'failures', delta: number) => {
    const sum = sql<number>`${sql.ref(`throttle_counters.${column}`)} + ${delta}`;
    return sql<number>`case when ${sum} < 0 then 0 else ${sum} end`;
  };
  const rows = await db
    .insertInto('throttle_counters')
    .values(windows.map((w) => ({ key: w.key, ends_at: w.endsAt, count: 0, failures: 0 })))
    .onConflict((conflict) =>
      conflict
        .column('key')
        .doUpdateSet({
          count: plus('count', change.count),
          failures: plus('failures', change.failures),
        })
        .where(sql.ref('throttle_counters.ends_at'), '=', sql.ref('excluded.ends_at')),
    )
    .returning(['key', 'count', 'failures', 'ends_at'])
    .execute();
  return inOrder(windows.map((w) => w.key), rows);
}

/**
 * Deletes at most `max` rows whose window ended by `now`; returns how many it deleted. On
 * PostgreSQL it skips rows another statement holds (an attempt reopening an ended window):
 * taking them in its own order could deadlock with that statement.
 */
export async function deleteEndedCounters(db: Db, now: number, max: number): Promise<number> {
  const result = await db
    .deleteFrom('throttle_counters')
    .where('key', 'in', (eb) =>
      eb
        .selectFrom('throttle_counters')
        .select('key')
        .where('ends_at', '<=', now)
        .limit(max)
        .$if(hasRowLocks(db), (select) => select.forUpdate().skipLocked()),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
