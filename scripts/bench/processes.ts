// The benchmark's child processes: spawning Node scripts from the package root, stopping
// them, and reading what a process has used so far from /proc (CPU, page faults, memory).
// Every child is registered with the `Processes` that spawned it, so an interrupted run can
// end them all.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BareConfig } from './bare.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const TSX = ['--import', 'tsx'];

export interface Running {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface Processes {
  spawnNode(argv: readonly string[], env?: NodeJS.ProcessEnv, stdin?: 'ignore' | 'pipe'): ChildProcess;
  /** Runs a script to completion and parses the JSON of its last stdout line. */
  runJson<T>(argv: readonly string[]): Promise<T>;
  /** A bare baseline server (scripts/bench/bare.ts); resolves once it printed its port. */
  startBare(kind: string, config: BareConfig): Promise<Running>;
  /** SIGTERM to every child still running. */
  killAll(): void;
}

export function collect(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { stdout: () => stdout, stderr: () => stderr };
}

export function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
}

export function createProcesses(): Processes {
  const children = new Set<ChildProcess>();

  function spawnNode(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
    const child = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: [stdin, 'pipe', 'pipe'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  }

  return {
    spawnNode,
    async runJson<T>(argv: readonly string[]): Promise<T> {
      const child = spawnNode(argv);
      const out = collect(child);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code}: ${out.stderr()}`);
      const lines = out.stdout().trim().split('\n');
      return JSON.parse(lines[lines.length - 1]!) as T;
    },
    async startBare(kind, config) {
      const child = spawnNode([...TSX, 'scripts/bench/bare.ts', kind, JSON.stringify(config)]);
      const out = collect(child);
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout!.on('data', () => {
          const line = out.stdout().split('\n')[0];
          if (line && out.stdout().includes('\n')) resolve((JSON.parse(line) as { port: number }).port);
        });
        child.once('exit', (code) => reject(new Error(`baseline ${kind} exited with ${code}: ${out.stderr()}`)));
      });
      return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: stopper(child) };
    },
    killAll() {
      for (const child of children) child.kill('SIGTERM');
    },
  };
}

/** CPU time (user + system, all threads, in ms) and minor page faults of a process so far. */
export function usage(pid: number): { cpuMs: number; systemMs: number; minorFaults: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // proc(5): minflt is field 10, utime 14, stime 15 (1-based, counted from the pid); ticks of 10 ms (USER_HZ 100).
  return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, systemMs: Number(fields[12]) * 10, minorFaults: Number(fields[7]) };
}

/** VmRSS and VmHWM (peak) of a process, in MiB. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]) / 1024;
  return { rss: mib('VmRSS'), hwm: mib('VmHWM') };
}
