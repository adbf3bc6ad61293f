// Where the throttle keeps its counts: the database, shared by every instance on it
// (PostgreSQL), or this process's memory (SQLite, one instance per file; and, everywhere,
// the counts that must cost no database work). The same operations and the same meaning for
// both; the throttle (throttle.ts) decides what the counts mean.
import type { Db } from '../store/database.js';
import { addToCounters, amendCounters, deleteEndedCounters, type CounterChange, type CounterWindow } from '../store/throttle-counters.js';
import { createBoundedWindows } from './bounded-windows.js';

export type { CounterChange, CounterWindow };

export interface CounterStore {
  /** Adds `change` to each key's window open at `now`, opening one ending at `endsAt` where none is; atomic per key. */
  add(keys: readonly string[], change: CounterChange, now: number, endsAt: number): Promise<CounterWindow[]>;
  /** Adds `change` to those of `windows` still open (same key, same end); returns them changed. */
  amend(windows: readonly CounterWindow[], change: CounterChange): Promise<CounterWindow[]>;
  /** Forgets windows that ended by `now` (a bounded amount per call). */
  sweep(now: number): Promise<void>;
}

/** Rows one sweep statement deletes, and statements one sweep runs at most. */
const SWEEP_BATCH = 5_000;
const SWEEP_BATCHES = 20;

export function databaseCounters(db: Db): CounterStore {
  return {
    add: (keys, change, now, endsAt) => addToCounters(db, keys, change, now, endsAt),
    amend: (windows, change) => amendCounters(db, windows, change),
    async sweep(now) {
      // Bounded, so a sweep behind a huge backlog (after a flood from many addresses) never
      // holds a long transaction; the next sweep goes on where this one stopped.
      for (let i = 0; i < SWEEP_BATCHES; i++) {
        if ((await deleteEndedCounters(db, now, SWEEP_BATCH)) < SWEEP_BATCH) return;
      }
    },
  };
}

interface MutableWindow {
  count: number;
  failures: number;
  readonly endsAt: number;
}

/** Counts in this process; at most `maxTracked` windows (see bounded-windows.ts). */
export function memoryCounters(maxTracked: number): CounterStore {
  const windows = createBoundedWindows<MutableWindow>(maxTracked);
  const snapshot = (key: string, w: MutableWindow): CounterWindow => ({ key, count: w.count, failures: w.failures, endsAt: w.endsAt });
  return {
    async add(keys, change, now, endsAt) {
      return keys.map((key) => {
        let window = windows.open(key, now);
        if (window === undefined) {
          window = { count: 0, failures: 0, endsAt };
          windows.set(key, window, now);
        }
        window.count += change.count;
        window.failures += change.failures;
        return snapshot(key, window);
      });
    },
    async amend(targets, change) {
      return targets.flatMap(({ key, endsAt }) => {
        // Looked up as of the window's last moment: any window still stored under the key
        // with this end is the one to change, even if it has just ended.
        const window = windows.open(key, endsAt - 1);
        if (window === undefined || window.endsAt !== endsAt) return [];
        window.count += change.count;
        window.failures += change.failures;
        return [snapshot(key, window)];
      });
    },
    async sweep(now) {
      windows.sweep(now);
    },
  };
}
