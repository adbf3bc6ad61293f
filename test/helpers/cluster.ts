// Several real server processes (`scope-auth serve`, built as in test/helpers/cli.ts) on one
// fresh PostgreSQL schema, behind a round-robin proxy, as a team would run them. Faults are
// injected from outside, as they happen in production: SIGTERM to one process, and
// pg_terminate_backend on this cluster's own database connections (found by the
// application_name every instance connects with; never anyone else's).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { buildCli, databaseUrlFor, type Cli } from './cli.js';
import { TEST_ENV } from './context.js';
import { PG_URL } from './db.js';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.js';
import { freePort } from './server.js';
import { captureServerOutput } from './test-logger.js';

export interface Instance {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
}

export interface Cluster {
  /** The proxy's URL: the issuer every instance is configured with. */
  readonly url: string;
  readonly proxy: RoundRobinProxy;
  readonly instances: Instance[];
  readonly cli: Cli;
  /** The environment every instance and CLI run gets (database, KEK, issuer). */
  readonly env: Record<string, string>;
  readonly schema: string;
  /** Starts (or restarts) instance `index` on its port and waits until it is ready. */
  start(index: number): Promise<Instance>;
  /** SIGTERM, then the exit code. */
  stop(index: number): Promise<number | null>;
  /** Terminates every database connection of this cluster's instances; resolves with how many. */
  terminateBackends(): Promise<number>;
  query<Row extends object>(text: string, values?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

async function waitReady(instance: Instance): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  void instance.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`instance on ${instance.port} exited before it was ready:\n${instance.output()}`);
    const ready = await fetch(`${instance.url}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`instance on ${instance.port} was not ready within ${READY_TIMEOUT_MS} ms:\n${instance.output()}`);
}

export async function startCluster(options: { size: number; env?: Record<string, string> }): Promise<Cluster> {
  if (!PG_URL) throw new Error('SCOPE_AUTH_TEST_DATABASE_URL is not set');
  const schema = `c_${randomBytes(6).toString('hex')}`;
  const applicationName = `scope_auth_${schema}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const databaseUrl = new URL(databaseUrlFor({ url: PG_URL, schema }));
  databaseUrl.searchParams.set('application_name', applicationName);

  const ports = await Promise.all(Array.from({ length: options.size }, () => freePort()));
  const backends = ports.map((port) => `http://127.0.0.1:${port}`);
  const proxy = await startRoundRobinProxy(backends);
  const dir = mkdtempSync(join(tmpdir(), 'scope-auth-cluster-'));
  const env: Record<string, string> = {
    ...(TEST_ENV as Record<string, string>),
    SCOPE_AUTH_ISSUER: proxy.url,
    SCOPE_AUTH_DATABASE_URL: databaseUrl.toString(),
    SCOPE_AUTH_KEK: randomBytes(32).toString('base64'),
    SCOPE_AUTH_KEYS_DIR: join(dir, 'keys'),
    SCOPE_AUTH_LOG_LEVEL: 'warn',
    ...options.env,
  };
  const cli = await buildCli(env);
  const instances: Instance[] = [];

  function spawnInstance(index: number): Instance {
    const port = ports[index]!;
    const child = spawn(process.execPath, [cli.bin, 'serve'], {
      env: { PATH: process.env.PATH ?? '', ...env, SCOPE_AUTH_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += String(chunk)));
    captureServerOutput(child.stdout!, 'cluster');
    child.stderr!.on('data', (chunk) => (output += String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { port, url: backends[index]!, child, output: () => output, exited };
  }

  const cluster: Cluster = {
    url: proxy.url,
    proxy,
    instances,
    cli,
    env,
    schema,
    async start(index) {
      const instance = spawnInstance(index);
      instances[index] = instance;
      await waitReady(instance);
      return instance;
    },
    async stop(index) {
      const instance = instances[index]!;
      instance.child.kill('SIGTERM');
      return instance.exited;
    },
    async terminateBackends() {
      const { rows } = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [applicationName]);
      return rows.length;
    },
    async query(text, values = []) {
      const client = new pg.Client({ connectionString: databaseUrl.toString() });
      await client.connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    async close() {
      for (const instance of instances) {
        if (instance.child.exitCode === null && instance.child.signalCode === null) {
          instance.child.kill('SIGKILL');
          await instance.exited;
        }
      }
      await proxy.close();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
      cli.remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

export interface LoadResult {
  ok: number;
  failed: number;
  /** The first few failures, to say what went wrong. */
  failures: string[];
}

/**
 * Runs `step` from `workers` loops at once until `stop` resolves; a step returns null when it
 * succeeded, or what went wrong. Bounded: it ends when told to, and each step is a request to
 * a loopback address.
 */
export async function runLoad(workers: number, stop: Promise<unknown>, step: () => Promise<string | null>): Promise<LoadResult> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const result: LoadResult = { ok: 0, failed: 0, failures: [] };
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stopped) {
        const failure = await step().catch((error: unknown) => `threw: ${(error as Error).message}`);
        if (failure === null) result.ok++;
        else {
          result.failed++;
          if (result.failures.length < 10) result.failures.push(failure);
        }
      }
    }),
  );
  return result;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
