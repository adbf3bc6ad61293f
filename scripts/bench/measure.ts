// The load generator (load.ts) as the benchmark drives it: one process for the whole run,
// started once, its jobs run one after another; `measure` adds what the process under test
// spent on the job (CPU from /proc, so all its threads count).
import type { SourcesJob, SourcesResult } from './address-load.js';
import type { LoadJob, LoadResult } from './load.js';
import { TSX, stopper, usage, type Processes } from './processes.js';

export interface Measured extends LoadResult {
  /** CPU of the process under test per response, and the part of it spent in the kernel. */
  readonly cpuMsPerRequest: number;
  readonly systemMsPerRequest: number;
  /** Minor page faults of the process under test per response (memory newly touched or given back and taken again). */
  readonly minorFaultsPerRequest: number;
}

export interface LoadGenerator {
  /** Runs a load job against the process `pid` serves, with its CPU use over the run (NaN without a pid). */
  measure(job: LoadJob, pid?: number): Promise<Measured>;
  /** Runs a job from many client addresses (address-load.ts). */
  sources(job: SourcesJob): Promise<SourcesResult>;
  stop(): Promise<void>;
}

export function startLoadGenerator(processes: Processes): LoadGenerator {
  const child = processes.spawnNode([...TSX, 'scripts/bench/load.ts'], process.env, 'pipe');
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let buffered = '';
  const waiting: Array<{ resolve: (r: unknown) => void; reject: (e: Error) => void }> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      waiting.shift()?.resolve(JSON.parse(line));
    }
  });
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the load generator exited with ${code}: ${stderr}`));
  });
  const run = <R>(job: LoadJob | SourcesJob) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ resolve: (r) => resolve(r as R), reject });
      child.stdin!.write(`${JSON.stringify(job)}\n`);
    });
  return {
    async measure(job, pid) {
      const before = pid === undefined ? undefined : usage(pid);
      const result = await run<LoadResult>(job);
      const after = pid === undefined ? undefined : usage(pid);
      const per = (field: keyof ReturnType<typeof usage>) => (before && after ? (after[field] - before[field]) / Math.max(1, result.requests) : NaN);
      return { ...result, cpuMsPerRequest: per('cpuMs'), systemMsPerRequest: per('systemMs'), minorFaultsPerRequest: per('minorFaults') };
    },
    sources: (job) => run<SourcesResult>(job),
    async stop() {
      child.stdin!.end();
      await stopper(child)();
    },
  };
}
