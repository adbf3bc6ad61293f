// Last-used figures are batched in memory and written at most every `flushMs`, so a
// successful exchange never waits for a write. A crash loses at most that last interval.
import type { Logger } from 'pino';
import type { Db } from '../store/database.js';
import { recordLastUsed, type LastUsedUpdate } from '../store/api-keys.js';

export interface LastUsedRecorder {
  record(keyId: string, at: number, ip: string | null): void;
  flush(): Promise<void>;
  start(): void;
  /** Stops the timer and writes what is pending. */
  stop(): Promise<void>;
}

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
    const batch = pending;
    pending = new Map();
    try {
      await recordLastUsed(db, [...batch.values()]);
    } catch (error) {
      // Keep the figures for the next attempt rather than dropping them.
      for (const update of batch.values()) merge(update);
      logger.error({ err: error, keys: batch.size }, 'writing last-used figures failed; will retry');
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
