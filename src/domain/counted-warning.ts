// A warning that can happen on every request (load shedding, an unreachable database) is
// logged as one line per window with how many times it happened, not once per request: a
// flood must not become a flood of log lines as well.
import type { Logger } from 'pino';

export interface CountedWarning {
  /** Counts one occurrence; `fields` of the last one in a window go on its line (e.g. the error). */
  count(fields?: Readonly<Record<string, unknown>>): void;
}

/** Lines at most once per this many ms by default. */
export const COUNTED_WARNING_WINDOW_MS = 1000;

/**
 * The first occurrence opens a window; when it ends, one `warn` line says how many there were
 * (`count`, `window_ms`). A window with none writes nothing, and the timer never keeps the
 * process alive.
 */
export function countedWarning(logger: Logger, message: string, windowMs = COUNTED_WARNING_WINDOW_MS): CountedWarning {
  let count = 0;
  let last: Readonly<Record<string, unknown>> | undefined;
  let window: NodeJS.Timeout | undefined;
  const report = () => {
    logger.warn({ ...last, count, window_ms: windowMs }, message);
    count = 0;
    last = undefined;
    window = undefined;
  };
  return {
    count(fields) {
      count++;
      if (fields !== undefined) last = fields;
      window ??= setTimeout(report, windowMs).unref();
    },
  };
}
