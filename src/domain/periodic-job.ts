// A background job that runs every `intervalMs` on one instance at a time: each run first
// takes (or renews) the job's lease in the database, so several instances on one
// PostgreSQL database run it once between them, and one that stops is replaced within a
// lease. On SQLite (one instance) the lease is always this process's.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../store/database.js';
import { isDatabaseUnavailable } from '../store/availability.js';
import { releaseLease, takeLease } from '../store/leases.js';
import type { Clock } from './clock.js';

export interface JobRun {
  /**
   * Renews the lease; false when another instance has taken it meanwhile (the run ran longer
   * than the lease): the run should then stop. Long runs call it between batches.
   */
  stillHolder(): Promise<boolean>;
}

export interface PeriodicJobOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The lease's name: one per job, the same on every instance. */
  readonly name: string;
  readonly intervalMs: number;
  /** How long a run may hold the job without renewing; at least twice the interval. */
  readonly leaseMs?: number;
  /** This instance's name in the lease (a random one by default). */
  readonly holder?: string;
  readonly run: (run: JobRun) => Promise<void>;
}

export interface PeriodicJob {
  readonly name: string;
  start(): void;
  /** Stops the timer, waits for a run in progress and gives up the lease. */
  stop(): Promise<void>;
  /** One run now, when this instance gets the lease; true when it ran. For tests and the CLI. */
  runOnce(): Promise<boolean>;
}

export function createPeriodicJob(options: PeriodicJobOptions): PeriodicJob {
  const { db, clock, logger, name, intervalMs } = options;
  const leaseMs = options.leaseMs ?? Math.max(2 * intervalMs, 30_000);
  const holder = options.holder ?? randomUUID();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;
  let held = false;

  const take = async () => {
    const now = clock.now();
    held = await takeLease(db, { name, holder, now, expiresAt: now + leaseMs });
    return held;
  };

  async function once(): Promise<boolean> {
    try {
      if (!(await take())) return false;
      await options.run({ stillHolder: take });
      return true;
    } catch (error) {
      // A database that is away is the operator's to see once, not a crash: the next run retries.
      if (isDatabaseUnavailable(error)) logger.warn({ job: name, err: { message: (error as Error).message } }, 'background job could not reach the database; retrying');
      else logger.error({ job: name, err: error }, 'background job failed; retrying');
      return false;
    }
  }

  function runOnce(): Promise<boolean> {
    // Never two runs of one job in one process.
    running ??= once().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule() {
    timer = setTimeout(() => {
      void runOnce().finally(() => {
        if (timer !== undefined) schedule();
      });
    }, intervalMs);
    timer.unref();
  }

  return {
    name,
    start() {
      if (timer === undefined) schedule();
    },
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await running;
      if (held) await releaseLease(db, name, holder).catch(() => undefined);
      held = false;
    },
    runOnce,
  };
}
