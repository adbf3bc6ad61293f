// Last-used figures are batched in memory and written at most every `flushMs`, so a
// successful exchange never waits for a write. A crash loses at most that last interval.
// A batch is written in transactions of at most FLUSH_CHUNK keys, with a turn of the event
// loop between them: on SQLite every write blocks the event loop, and a second's worth of
// a busy server's keys (hundreds, each row on its own page) written in one go stalled
// every request for tens of milliseconds.
import type { Logger } from 'pino';
import type { Db } from '../store/database.js';
import { recordLastUsed, type LastUsedUpdate } from '../store/last-used.js';

export interface LastUsedRecorder {
  record(keyId: string, at: number, ip: string | null): void;
  flush(): Promise<void>;
  start(): void;
  /** Stops the timer and writes what is pending. */
  stop(): Promise<void>;
}

/** Keys written per transaction. */
export const FLUSH_CHUNK = 100;

export function createLastUsedRecorder(db: Db, logger: Logger, flushMs: number): LastUsedRecorder {
  let pending = new Map<string, LastUsedUpdate>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  function merge(update: LastUsedUpdate) {
    const existing = pending.get(update.keyId);
    if (!existing) {
      pending.set(update.keyId, { ...update });
      return;
    }
    existing.count += update.count;
    if (update.at >= existing.at) {
      existing.at = update.at;
      existing.ip = update.ip;
    }
  }

  async function write() {
    if (pending.size === 0) return;
    const batch = [...pending.values()];
    pending = new Map();
    for (let start = 0; start < batch.length; start += FLUSH_CHUNK) {
      if (start > 0) await new Promise((resolve) => setImmediate(resolve));
      try {
        await recordLastUsed(db, batch.slice(start, start + FLUSH_CHUNK));
      } catch (error) {
        // Keep the figures not written for the next attempt rather than dropping them.
        const unwritten = batch.slice(start);
        for (const update of unwritten) merge(update);
        logger.error({ err: error, keys: unwritten.length }, 'writing last-used figures failed; will retry');
        return;
      }
    }
  }

  const recorder: LastUsedRecorder = {
    record(keyId, at, ip) {
      merge({ keyId, at, ip, count: 1 });
    },
    flush() {
      flushing = flushing.then(write);
      return flushing;
    },
    start() {
      if (timer) return;
      timer = setInterval(() => void recorder.flush(), flushMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await recorder.flush();
    },
  };
  return recorder;
}
