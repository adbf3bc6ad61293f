// When the keyring re-reads the stored keys outside its periodic timer: on a change
// notification (coalesced), and for a kid it does not know (paced).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';

export interface KeyringReads {
  /** A re-read soon: one at a time, and one more if asked again while one runs. */
  soon(): void;
  /**
   * A re-read that starts after this call, shared by every caller until it starts; reads
   * start at least `intervalMs` apart (paced in real time, not by the injected clock: this
   * limits database reads, it decides nothing about tokens).
   */
  fresh(): Promise<void>;
}

export function createKeyringReads(refresh: () => Promise<void>, logger: Logger, intervalMs: number): KeyringReads {
  const read = () => refresh().catch((error: unknown) => logger.error({ err: error }, 'keyring refresh failed'));

  let running: Promise<void> | null = null;
  let again = false;

  let next: Promise<void> | null = null;
  let last: Promise<void> = Promise.resolve();
  let lastStartedAt = -Infinity;

  return {
    soon() {
      if (running) {
        again = true;
        return;
      }
      running = (async () => {
        do {
          again = false;
          await read();
        } while (again);
        running = null;
      })();
    },

    fresh() {
      next ??= (async () => {
        await last;
        const wait = lastStartedAt + intervalMs - performance.now();
        if (wait > 0) await sleep(wait);
        // From here on a new caller may have missed what this read sees: it waits for the next.
        next = null;
        lastStartedAt = performance.now();
        last = read();
        await last;
      })();
      return next;
    },
  };
}
