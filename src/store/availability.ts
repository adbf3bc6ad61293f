// Whether a database error means "the database cannot be reached right now" (answer 503 and
// let the client retry) rather than a bug (500), and waiting for the database at startup.
import type { Logger } from 'pino';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** SQLSTATEs of a connection that the server closed or refused (class 08, operator intervention). */
const LOST_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** pg's own messages for a connection that is gone; it gives them no code. */
const LOST_MESSAGES = [/^Connection terminated/, /not queryable/, /Client was closed/];

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : '';
}

/** The connection broke or could not be opened; a read may be retried on a fresh one. */
export function isConnectionLost(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && (NETWORK_CODES.has(code) || LOST_SQLSTATES.has(code) || code.startsWith('08'))) return true;
  const message = messageOf(error);
  return LOST_MESSAGES.some((pattern) => pattern.test(message));
}

/**
 * Any failure that says the database is unreachable or too slow right now: a lost connection,
 * no free connection within the acquire timeout, a statement that ran into its timeout, or
 * SQLite's file still locked after its busy timeout.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (isConnectionLost(error)) return true;
  const code = codeOf(error);
  if (code === '57014' || code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT') return true;
  const message = messageOf(error);
  return message === 'Query read timeout' || message.startsWith('timeout exceeded when trying to connect');
}

export interface WaitOptions {
  /** Give up after this long; 0 tries once. */
  readonly timeoutMs: number;
  readonly logger?: Logger;
  /** First pause between attempts; it doubles up to maxDelayMs. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
}

/**
 * Calls `probe` until it resolves, with exponential backoff, logging each failed attempt;
 * rejects with the last error once `timeoutMs` has passed. A database that is still starting
 * (a container started beside it, a failover in progress) is waited for, not a crash loop.
 */
export async function waitForDatabase(probe: () => Promise<void>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let delay = options.initialDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 5000;
  for (let attempt = 1; ; attempt++) {
    try {
      await probe();
      if (attempt > 1) options.logger?.info({ attempt }, 'database reachable');
      return;
    } catch (error) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`the database is unreachable (${attempt} attempt${attempt === 1 ? '' : 's'} over ${Math.round(options.timeoutMs / 1000)} s): ${messageOf(error) || codeOf(error) || 'unknown error'}`, { cause: error });
      }
      const wait = Math.min(delay, left);
      options.logger?.warn({ attempt, retry_in_ms: wait, err: { message: messageOf(error), code: codeOf(error) } }, 'database unreachable; retrying');
      await new Promise((resolve) => setTimeout(resolve, wait));
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}
