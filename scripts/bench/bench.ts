// What the figures share: the run's machinery (`Rig`), everything the figures of one dialect
// work on (`Bench`), the load jobs they run and the baseline servers they compare with.
import type { Config } from '../../src/config.js';
import type { Dialect } from '../../src/store/database.js';
import type { SourcesJob, SourcesResult } from './address-load.js';
import type { BareConfig } from './bare.js';
import type { Figure } from './figures.js';
import type { LoadJob } from './load.js';
import type { Measured } from './measure.js';
import type { Plan } from './plan.js';
import { memoryOf, type Processes, type Running } from './processes.js';
import type { Seeded } from './seed.js';
import type { ServerCommand } from './server.js';

/** The run's machinery, the same for every dialect. */
export interface Rig {
  readonly plan: Plan;
  readonly processes: Processes;
  /** Runs a job on the one load-generator process; with a pid, adds that process's CPU use over the job. */
  readonly load: (job: LoadJob, pid?: number) => Promise<Measured>;
  /** Runs a job from many client addresses on the same load-generator process. */
  readonly sources: (job: SourcesJob) => Promise<SourcesResult>;
  /** The run's temporary directory: SQLite files, keys directories. */
  readonly workDir: string;
  readonly serverCommand: ServerCommand;
}

/** Everything the figures of one dialect share. */
export interface Bench extends Rig {
  readonly dialect: Dialect;
  readonly pgUrl: string | null;
  readonly config: Config;
  readonly env: Record<string, string>;
  readonly seeded: Seeded;
  readonly server: Running;
  /** Exchange bodies of the measured keys (cold once each, then warm). */
  readonly bodies: string[];
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  /** A token of the server, for the verifier figures. */
  readonly token: { access_token: string; scope: string };
  readonly figures: Figure[];
  readonly raw: Record<string, unknown>;
  /** VmRSS and VmHWM of the server after each phase, in MiB. */
  readonly memory: Array<{ after: string; rss: number; hwm: number }>;
}

export const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

export const POST = { method: 'POST' as const, headers: { 'content-type': 'application/json' } };

/**
 * Each body exchanged once, so argon2 runs for every request; twice the argon2 concurrency
 * in connections keeps its queue fed without ever reaching the queue's limit.
 */
export function coldExchanges(url: string, bodies: string[], config: Config): LoadJob {
  return { url, ...POST, bodies, connections: config.argon2.concurrency * 2, amount: bodies.length };
}

export function throughputJob(plan: Plan, url: string, extra: Partial<LoadJob> = {}): LoadJob {
  return { url, method: 'GET', connections: plan.connections, durationSeconds: plan.seconds, ...extra };
}

export function snapshotMemory(b: Bench, after: string) {
  b.memory.push({ after, ...memoryOf(b.server.pid) });
}

/** A baseline server, warmed up; `measure()` runs the job against it; `stop()` ends it. */
export async function bareServer(rig: Rig, kind: string, config: BareConfig, job: (url: string) => LoadJob) {
  const running = await rig.processes.startBare(kind, config);
  try {
    await rig.load({ ...job(running.url), durationSeconds: rig.plan.warmupSeconds });
  } catch (error) {
    await running.stop();
    throw error;
  }
  return {
    measure: async () => ({ ...(await rig.load(job(running.url), running.pid)), peakRssMiB: memoryOf(running.pid).hwm }),
    stop: running.stop,
  };
}

/** Runs `body` with the baselines started by `start`, stopping them whatever happens. */
export async function withBaselines<T, S extends ReadonlyArray<{ stop(): Promise<void> }>>(start: () => Promise<S>, body: (baselines: S) => Promise<T>): Promise<T> {
  const baselines = await start();
  try {
    return await body(baselines);
  } finally {
    for (const baseline of baselines) await baseline.stop();
  }
}
