// `npm run bench`: where scope-auth stands against what its work costs at the least.
//
// Starts the real server as `npm start` does (bin/serve.cjs with the start script's Node
// options) as a child process on loopback with a temporary database and keys directory,
// seeds the database directly, drives the server from a separate load-generator process
// (autocannon, bounded in requests and time), runs each baseline as a bare process of its
// own, alternately with the figure it is compared with, and prints one table — also
// written as JSON to scripts/bench/results/.
// SQLite always; PostgreSQL too when SCOPE_AUTH_TEST_DATABASE_URL or --pg <url> is set.
// README "Performance" explains the figures.
//
//   npm run bench                      full run (about 4.5 minutes with PostgreSQL)
//   npm run bench -- --quick           smaller and shorter, to check that it works
//   npm run bench -- --pg postgres://postgres@127.0.0.1:5432/test
//   npm run bench -- --keys 20000      the "large" key count (default 100,000)
//   npm run bench -- --source          run the server from src/ with tsx instead of dist/
//   npm run bench -- --server path/to/bin/serve.cjs   another build of the server (to compare), same Node options
//   npm run bench -- --env NAME=VALUE  extra server environment (repeatable)
//   npm run bench -- --only warm,latency        some figures only: cold, warm, jwks, verifier, latency
//   npm run bench -- --db postgres     one database only (sqlite or postgres; the verifier runs on the first)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import type { JWK } from 'jose';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import { createDatabase, migrateToLatest, type DatabaseHandle, type Dialect } from '../../src/store/database.js';
import type { BareConfig } from './bare.js';
import type { LoadJob, LoadResult } from './load.js';
import { BENCH_SCOPES, growKeys, seedDatabase, type Seeded } from './seed.js';
import { freePort } from '../free-port.js';
import { startCommand } from '../start-command.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = ['--import', 'tsx'];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    pg: { type: 'string' },
    source: { type: 'boolean', default: false },
    keys: { type: 'string' },
    env: { type: 'string', multiple: true },
    server: { type: 'string' },
    only: { type: 'string' },
    db: { type: 'string' },
  },
});

const PHASES = ['cold', 'warm', 'jwks', 'verifier', 'latency'] as const;
const only = new Set(args.only ? args.only.split(',') : PHASES);
for (const phase of only) if (!(PHASES as readonly string[]).includes(phase)) throw new Error(`--only: unknown figure ${phase}`);
/** Whether a phase runs: everything unless --only names some. */
const runs = (phase: (typeof PHASES)[number]) => only.has(phase);

/** `--env NAME=VALUE` (repeatable): extra environment of the server, e.g. SCOPE_AUTH_ARGON2_CONCURRENCY=4. */
const serverEnv = Object.fromEntries(
  (args.env ?? []).map((pair) => {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--env expects NAME=VALUE, got ${pair}`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);

interface Plan {
  readonly mode: 'full' | 'quick';
  /** Keys in the database for the "small" latency figure. */
  readonly smallKeys: number;
  /** Keys in the database for the "large" latency figure. */
  readonly largeKeys: number;
  /** Keys exchanged cold (once each), then reused warm. */
  readonly workingKeys: number;
  /** Other fresh keys exchanged first, so the measured cold exchanges find a warmed-up process. */
  readonly coldWarmupKeys: number;
  /** Seconds of each timed run (throughput), and of each latency run. */
  readonly seconds: number;
  readonly latencySeconds: number;
  readonly warmupSeconds: number;
  /** Connections for the throughput figures. */
  readonly connections: number;
  /** Runs of each latency measurement. */
  readonly latencyRounds: number;
  /** Working keys of the latency figure (the large side's server exchanges them cold first). */
  readonly latencyKeys: number;
  /**
   * Each comparison alternates ours and the baseline this many times and keeps the best run
   * of each: the machine may be shared, and the best run is the one least disturbed. Many
   * short rounds rather than a few long ones: a burst of other load then spoils a round of
   * each side, not the comparison.
   */
  readonly rounds: number;
}

const plan: Plan = args.quick
  ? { mode: 'quick', smallKeys: 1_000, largeKeys: Number(args.keys ?? 100_000), workingKeys: 150, coldWarmupKeys: 30, seconds: 2, latencySeconds: 2, warmupSeconds: 1, connections: 10, rounds: 1, latencyRounds: 1, latencyKeys: 60 }
  : { mode: 'full', smallKeys: 1_000, largeKeys: Number(args.keys ?? 100_000), workingKeys: 900, coldWarmupKeys: 60, seconds: 2, latencySeconds: 3, warmupSeconds: 1, connections: 10, rounds: 5, latencyRounds: 6, latencyKeys: 200 };

// ---------------------------------------------------------------------------------------------
// Child processes

const children = new Set<ChildProcess>();

function spawnNode(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const child = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: [stdin, 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function collect(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { stdout: () => stdout, stderr: () => stderr };
}

/** Runs a script to completion and parses the JSON of its last stdout line. */
async function runJson<T>(argv: readonly string[]): Promise<T> {
  const child = spawnNode(argv);
  const out = collect(child);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code}: ${out.stderr()}`);
  const lines = out.stdout().trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

interface Running {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
}

/** A bare baseline server; resolves once it printed its port. */
async function startBare(kind: string, config: BareConfig): Promise<Running> {
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
}

let workDir = '';

/** The load-generator process, started once; jobs run one after another. */
function startLoadGenerator(): { run(job: LoadJob): Promise<LoadResult>; stop(): Promise<void> } {
  const child = spawnNode([...TSX, 'scripts/bench/load.ts'], process.env, 'pipe');
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let buffered = '';
  const waiting: Array<{ resolve: (r: LoadResult) => void; reject: (e: Error) => void }> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      waiting.shift()?.resolve(JSON.parse(line) as LoadResult);
    }
  });
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the load generator exited with ${code}: ${stderr}`));
  });
  return {
    run(job) {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin!.write(`${JSON.stringify(job)}\n`);
      });
    },
    async stop() {
      child.stdin!.end();
      await stopper(child)();
    },
  };
}

let loadGenerator: ReturnType<typeof startLoadGenerator> | undefined;

/** CPU time (user + system, all threads, in ms) and minor page faults of a process so far. */
function usage(pid: number): { cpuMs: number; systemMs: number; minorFaults: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // proc(5): minflt is field 10, utime 14, stime 15 (1-based, counted from the pid); ticks of 10 ms (USER_HZ 100).
  return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, systemMs: Number(fields[12]) * 10, minorFaults: Number(fields[7]) };
}

interface Measured extends LoadResult {
  /** CPU of the process under test per response, and the part of it spent in the kernel. */
  readonly cpuMsPerRequest: number;
  readonly systemMsPerRequest: number;
  /** Minor page faults of the process under test per response (memory newly touched or given back and taken again). */
  readonly minorFaultsPerRequest: number;
}

/** Runs a load job against the process `pid` serves, with its CPU use over the run. */
async function load(job: LoadJob, pid?: number): Promise<Measured> {
  const before = pid === undefined ? undefined : usage(pid);
  const result = await loadGenerator!.run(job);
  const after = pid === undefined ? undefined : usage(pid);
  const per = (field: keyof ReturnType<typeof usage>) => (before && after ? (after[field] - before[field]) / Math.max(1, result.requests) : NaN);
  return { ...result, cpuMsPerRequest: per('cpuMs'), systemMsPerRequest: per('systemMs'), minorFaultsPerRequest: per('minorFaults') };
}

/** The server as `npm start` runs it (its Node options included), with only our SCOPE_AUTH_* variables. */
async function startScopeAuth(env: Record<string, string>): Promise<Running> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SCOPE_AUTH_')));
  const start = startCommand(ROOT);
  const main = args.server ?? start.script;
  const argv = [...start.nodeOptions, ...(args.source ? [...TSX, 'src/main.ts'] : [main])];
  if (!args.source && !existsSync(resolve(ROOT, main))) {
    throw new Error(`${main} is missing: run \`npm run build\` first (npm run bench does), or pass --source`);
  }
  const child = spawnNode(argv, { ...base, ...env });
  const out = collect(child);
  const url = `http://127.0.0.1:${env.SCOPE_AUTH_PORT}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: ${out.stderr()}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server did not become ready: ${out.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, pid: child.pid!, stop: stopper(child) };
}

// ---------------------------------------------------------------------------------------------
// Figures

interface Figure {
  readonly figure: string;
  readonly dialect: Dialect | 'any';
  readonly measured: number;
  readonly baseline: number | null;
  readonly unit: string;
  readonly baselineUnit: string | null;
  /** measured ÷ baseline, or the measured value itself when there is no baseline. */
  readonly ratio: number;
  readonly target: string;
  /** null for an informational row. */
  readonly pass: boolean | null;
  /** Baseline CPU per request ÷ ours: the same comparison by CPU use, less sensitive to other load on the machine. */
  readonly cpuRatio: number | null;
  readonly note?: string;
}

const atLeast = (limit: number) => (ratio: number) => ratio >= limit;
const atMost = (limit: number) => (ratio: number) => ratio <= limit;

function figure(
  name: string,
  dialect: Dialect | 'any',
  measured: number,
  unit: string,
  baseline: { value: number; unit: string } | null,
  target: { text: string; test: ((ratio: number) => boolean) | null },
  extra: { cpu?: { ours: number; baseline: number }; note?: string | undefined } = {},
): Figure {
  const ratio = baseline ? measured / baseline.value : measured;
  return {
    figure: name,
    dialect,
    measured,
    baseline: baseline?.value ?? null,
    unit,
    baselineUnit: baseline?.unit ?? null,
    ratio,
    target: target.text,
    pass: target.test ? target.test(ratio) : null,
    cpuRatio: extra.cpu ? extra.cpu.baseline / extra.cpu.ours : null,
    ...(extra.note ? { note: extra.note } : {}),
  };
}

function expectAllOk(what: string, result: LoadResult): string | undefined {
  const bad = Object.entries(result.statuses).filter(([status]) => !status.startsWith('2'));
  if (bad.length === 0 && result.errors === 0) return undefined;
  const detail = `${what}: ${bad.map(([s, n]) => `${n}× ${s}`).join(', ')}${result.errors ? `, ${result.errors} errors` : ''}`;
  process.stderr.write(`warning: ${detail}\n`);
  return detail;
}

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

interface DialectRun {
  readonly figures: Figure[];
  readonly raw: Record<string, unknown>;
}

async function openBenchDatabase(dialect: Dialect, pgUrl: string | null, name: string): Promise<{ handle: DatabaseHandle; serverUrl: string; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const file = join(workDir, `${name}.sqlite`);
    const handle = await createDatabase(`sqlite:${file}`);
    return { handle, serverUrl: `sqlite:${file}`, drop: async () => undefined };
  }
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const handle = await createDatabase(pgUrl!, { schema });
  const url = new URL(pgUrl!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    handle,
    serverUrl: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: pgUrl! });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}

/**
 * The best of several runs: the highest throughput, and the lowest CPU per request (which
 * need not come from the same run; both are the least disturbed measure of their kind).
 */
function best<T extends { rps: number; cpuMsPerRequest: number }>(runs: readonly T[]): T & { runs: number[] } {
  const top = runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const cpuMsPerRequest = Math.min(...runs.map((r) => r.cpuMsPerRequest).filter((cpu) => Number.isFinite(cpu)));
  return { ...top, cpuMsPerRequest: Number.isFinite(cpuMsPerRequest) ? cpuMsPerRequest : top.cpuMsPerRequest, runs: runs.map((r) => Number(r.rps.toFixed(1))) };
}

/** Runs ours and the baseline in turn, `plan.rounds` times. */
async function alternate<A extends { rps: number; cpuMsPerRequest: number }, B extends { rps: number; cpuMsPerRequest: number }>(ours: (round: number) => Promise<A>, baseline: (round: number) => Promise<B>) {
  const a: A[] = [];
  const b: B[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    a.push(await ours(round));
    b.push(await baseline(round));
  }
  return [best(a), best(b)] as const;
}

type Argon2Bare = { rps: number; verifications: number; seconds: number; cpuMsPerRequest: number; systemMsPerRequest: number; minorFaultsPerRequest: number };

/** Everything the figures of one dialect share. */
interface Bench {
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

const POST = { method: 'POST' as const, headers: { 'content-type': 'application/json' } };

/**
 * Each body exchanged once, so argon2 runs for every request; twice the argon2 concurrency
 * in connections keeps its queue fed without ever reaching the queue's limit.
 */
function coldExchanges(url: string, bodies: string[], config: Config): LoadJob {
  return { url, ...POST, bodies, connections: config.argon2.concurrency * 2, amount: bodies.length };
}

function throughputJob(url: string, extra: Partial<LoadJob> = {}): LoadJob {
  return { url, method: 'GET', connections: plan.connections, durationSeconds: plan.seconds, ...extra };
}

/** A baseline server, warmed up; `measure()` runs the job against it; `stop()` ends it. */
async function bareServer(kind: string, config: BareConfig, job: (url: string) => LoadJob) {
  const running = await startBare(kind, config);
  try {
    await load({ ...job(running.url), durationSeconds: plan.warmupSeconds });
  } catch (error) {
    await running.stop();
    throw error;
  }
  return {
    measure: async () => ({ ...(await load(job(running.url), running.pid)), peakRssMiB: memoryOf(running.pid).hwm }),
    stop: running.stop,
  };
}

/** Runs `body` with the baselines started by `start`, stopping them whatever happens. */
async function withBaselines<T, S extends ReadonlyArray<{ stop(): Promise<void> }>>(start: () => Promise<S>, body: (baselines: S) => Promise<T>): Promise<T> {
  const baselines = await start();
  try {
    return await body(baselines);
  } finally {
    for (const baseline of baselines) await baseline.stop();
  }
}

/**
 * 1. Cold exchanges: each key once, so each request runs argon2 — after a warm-up on other
 * fresh keys, as the bare process warms up too. The keys are split over the rounds.
 */
async function coldFigure(b: Bench, warmupBodies: string[]) {
  const coldJob = (bodies: string[]) => coldExchanges(b.tokenUrl, bodies, b.config);
  await load(coldJob(warmupBodies));
  if (!runs('cold')) {
    await load(coldJob(b.bodies)); // the warm figures need these keys verified
    return;
  }
  log(`${b.dialect}: cold exchanges (${b.bodies.length}) vs bare argon2.verify × ${b.config.argon2.concurrency}`);
  const perRound = Math.ceil(b.bodies.length / plan.rounds);
  const bareConfig: BareConfig = { secretHash: b.seeded.secretHash, secret: b.seeded.secret, concurrency: b.config.argon2.concurrency, durationSeconds: plan.seconds };
  const [cold, argon2Bare] = await alternate(
    (round) => load(coldJob(b.bodies.slice(round * perRound, (round + 1) * perRound)), b.server.pid),
    () => runJson<Argon2Bare>([...TSX, 'scripts/bench/bare.ts', 'argon2', JSON.stringify(bareConfig)]),
  );
  b.raw.cold = cold;
  b.raw.argon2Bare = argon2Bare;
  b.figures.push(
    figure('1 cold exchange ÷ bare argon2.verify', b.dialect, cold.rps, 'req/s', { value: argon2Bare.rps, unit: 'verify/s' }, { text: '≥ 0.85', test: atLeast(0.85) }, {
      cpu: { ours: cold.cpuMsPerRequest, baseline: argon2Bare.cpuMsPerRequest },
      note: expectAllOk('cold exchange', cold),
    }),
  );
}

/**
 * 2. Warm exchanges (the same keys again: argon2 skipped) vs a bare route signing an
 * equivalent JWT with jose — and, for information, with node:crypto as the server does.
 */
async function warmFigure(b: Bench) {
  log(`${b.dialect}: warm exchanges vs bare sign routes`);
  const warmJob = (url: string) => throughputJob(url, { ...POST, bodies: b.bodies });
  await load({ ...warmJob(b.tokenUrl), durationSeconds: plan.warmupSeconds });
  const signConfig = { issuer: b.env.SCOPE_AUTH_ISSUER!, audience: b.env.SCOPE_AUTH_ISSUER!, scope: b.token.scope };
  const [warm, signed, signedNode] = await withBaselines(
    async () => [await bareServer('sign', signConfig, (url) => warmJob(`${url}/token`)), await bareServer('sign-node', signConfig, (url) => warmJob(`${url}/token`))] as const,
    async ([sign, signNode]) => {
      const [ours, jose] = await alternate(() => load(warmJob(b.tokenUrl), b.server.pid), sign.measure);
      return [ours, jose, best([await signNode.measure()])] as const;
    },
  );
  b.raw.warm = warm;
  b.raw.bareSign = signed;
  b.raw.bareSignNode = signedNode;
  b.figures.push(
    figure('2 warm exchange ÷ bare jose sign route', b.dialect, warm.rps, 'req/s', { value: signed.rps, unit: 'req/s' }, { text: '≥ 0.7', test: atLeast(0.7) }, {
      cpu: { ours: warm.cpuMsPerRequest, baseline: signed.cpuMsPerRequest },
      note: expectAllOk('warm exchange', warm),
    }),
    figure('2b warm exchange ÷ bare node:crypto sign route', b.dialect, warm.rps, 'req/s', { value: signedNode.rps, unit: 'req/s' }, { text: '(info)', test: null }, {
      cpu: { ours: warm.cpuMsPerRequest, baseline: signedNode.cpuMsPerRequest },
    }),
  );
}

/** 3. JWKS vs a bare route returning the same bytes. */
async function jwksFigure(b: Bench) {
  log(`${b.dialect}: JWKS vs bare constant JSON`);
  const body = await (await fetch(b.jwksUrl)).text();
  await load({ ...throughputJob(b.jwksUrl), durationSeconds: plan.warmupSeconds });
  const [jwks, constant] = await withBaselines(
    async () => [await bareServer('constant', { body }, (url) => throughputJob(`${url}/.well-known/jwks.json`))] as const,
    ([bare]) => alternate(() => load(throughputJob(b.jwksUrl), b.server.pid), bare.measure),
  );
  b.raw.jwks = jwks;
  b.raw.bareConstant = constant;
  b.figures.push(
    figure('3 JWKS ÷ bare constant JSON route', b.dialect, jwks.rps, 'req/s', { value: constant.rps, unit: 'req/s' }, { text: '≥ 0.9', test: atLeast(0.9) }, {
      cpu: { ours: jwks.cpuMsPerRequest, baseline: constant.cpuMsPerRequest },
      note: expectAllOk('jwks', jwks),
    }),
  );
}

/** 4. The SDK's verifier middleware vs bare jose.jwtVerify with a local key; no database, so once per run. */
async function verifierFigure(b: Bench) {
  log('SDK verifier middleware vs bare jose.jwtVerify');
  const kid = (JSON.parse(Buffer.from(b.token.access_token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
  const jwks = (await (await fetch(b.jwksUrl)).json()) as { keys: Array<JWK & { kid: string }> };
  const jwk = jwks.keys.find((k) => k.kid === kid)!;
  const config = { issuer: b.env.SCOPE_AUTH_ISSUER!, audience: b.env.SCOPE_AUTH_ISSUER!, requiredScope: 'tools:deploy' };
  const job = (url: string) => throughputJob(`${url}/resource`, { headers: { authorization: `Bearer ${b.token.access_token}` } });
  const [sdk, jose] = await withBaselines(
    async () => [await bareServer('sdk-verify', { ...config, jwksUrl: b.jwksUrl }, job), await bareServer('jose-verify', { ...config, jwk }, job)] as const,
    ([ours, bare]) => alternate(ours.measure, bare.measure),
  );
  b.raw.sdkVerifier = sdk;
  b.raw.bareJoseVerify = jose;
  b.figures.push(
    figure('4 SDK verifier middleware ÷ bare jose.jwtVerify', 'any', sdk.rps, 'req/s', { value: jose.rps, unit: 'req/s' }, { text: '≥ 0.9', test: atLeast(0.9) }, {
      cpu: { ours: sdk.cpuMsPerRequest, baseline: jose.cpuMsPerRequest },
      note: expectAllOk('sdk verifier', sdk) ?? expectAllOk('jose verify', jose),
    }),
  );
}

/**
 * 5. Warm exchange latency, one request at a time, with 1,000 keys stored and with 100,000.
 * The large side is a second database, seeded like the first and grown to 100,000 keys,
 * served by a second server; the two are measured in alternation, `plan.latencyRounds`
 * times each after a warm-up, so a change in the machine's other load falls on both alike.
 * Each percentile counts at its lowest over the rounds (the least disturbed measure of it).
 */
async function latencyFigure(b: Bench) {
  log(`${b.dialect}: a second database grown to ${plan.largeKeys} keys, and its server`);
  const twin = await startBenchServer(b.dialect, b.pgUrl, 'large', { working: plan.latencyKeys });
  try {
    const total = await growKeys(twin.database.handle.db, twin.seeded, plan.largeKeys);
    // Measure a database that holds 100,000 keys, not the aftermath of importing them: let
    // PostgreSQL vacuum and analyse now rather than in the middle of the run, and SQLite fold
    // the imported pages back from its write-ahead log into the database file.
    if (b.dialect === 'postgres') await sql`vacuum analyze api_keys`.execute(twin.database.handle.db);
    else await sql`pragma wal_checkpoint(truncate)`.execute(twin.database.handle.db);
    const sides = [
      { name: 'small', pid: b.server.pid, job: latencyJob(b.tokenUrl, b.bodies.slice(0, plan.latencyKeys)), results: [] as Measured[] },
      { name: 'large', pid: twin.server.pid, job: latencyJob(twin.tokenUrl, twin.bodies), results: [] as Measured[] },
    ];
    // The twin's keys are exchanged once first (argon2), as the main server's were.
    await load(coldExchanges(twin.tokenUrl, twin.bodies, twin.config));
    for (const side of sides) await load({ ...side.job, durationSeconds: plan.warmupSeconds });
    log(`${b.dialect}: latency with ${plan.smallKeys} and ${total} keys, alternately`);
    for (let round = 0; round < plan.latencyRounds; round++) {
      for (const side of sides) side.results.push(await load(side.job, side.pid));
    }
    const lowestOf = (results: Measured[]) => {
      const lowest = (p: 'p50' | 'p99') => Math.min(...results.map((r) => r.latencyMs[p]));
      return { ...results[0]!, latencyMs: { ...results[0]!.latencyMs, p50: lowest('p50'), p99: lowest('p99') }, runs: results.map((r) => r.latencyMs) };
    };
    const small = lowestOf(sides[0]!.results);
    const large = lowestOf(sides[1]!.results);
    b.raw.latencySmall = small;
    b.raw.latencyLarge = { ...large, peakRssMiB: memoryOf(twin.server.pid).hwm };
    const note = expectAllOk('latency', small) ?? expectAllOk('latency', large);
    const latency = (p: 'p50' | 'p99') =>
      figure(
        `5 exchange ${p}, ${total.toLocaleString('en')} ÷ ${plan.smallKeys.toLocaleString('en')} keys`,
        b.dialect,
        large.latencyMs[p],
        'ms',
        { value: small.latencyMs[p], unit: 'ms' },
        { text: '≤ 1.2', test: atMost(1.2) },
        { note },
      );
    b.figures.push(latency('p50'), latency('p99'));
  } finally {
    await twin.stop();
  }
}

function latencyJob(url: string, bodies: string[]): LoadJob {
  return { url, ...POST, bodies, connections: 1, durationSeconds: plan.latencySeconds };
}

function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1]) / 1024;
  return { rss: mib('VmRSS'), hwm: mib('VmHWM') };
}

function snapshotMemory(b: Bench, after: string) {
  b.memory.push({ after, ...memoryOf(b.server.pid) });
}

/** A database seeded with `plan.smallKeys` keys (`working` of them to exchange) and a server on it. */
async function startBenchServer(dialect: Dialect, pgUrl: string | null, name: string, counts: { working: number }) {
  const database = await openBenchDatabase(dialect, pgUrl, name);
  let server: Running | undefined;
  try {
    await migrateToLatest(database.handle.db);
    const port = await freePort();
    const env: Record<string, string> = {
      SCOPE_AUTH_HOST: '127.0.0.1',
      SCOPE_AUTH_PORT: String(port),
      SCOPE_AUTH_ISSUER: `http://127.0.0.1:${port}`,
      SCOPE_AUTH_DATABASE_URL: database.serverUrl,
      SCOPE_AUTH_KEYS_DIR: join(workDir, `keys-${dialect}-${name}`),
      SCOPE_AUTH_LOG_LEVEL: 'warn',
      ...serverEnv,
    };
    const config = loadConfig(env);
    log(`${dialect}: seeding ${plan.smallKeys} keys (${name})`);
    const seeded = await seedDatabase(database.handle.db, config.argon2, { total: plan.smallKeys, working: counts.working });
    server = await startScopeAuth(env);
    log(`${dialect}: server ${server.url} (pid ${server.pid}, ${name}), argon2 concurrency ${config.argon2.concurrency}`);
    const exchangeBody = (keyId: string) => JSON.stringify({ org_id: seeded.orgId, key_id: keyId, secret: seeded.secret });
    const tokenUrl = `${server.url}/v1/token`;
    const bodies = seeded.workingKeys.map(exchangeBody);
    const running = server;
    return {
      database,
      env,
      config,
      seeded,
      server,
      tokenUrl,
      bodies,
      exchangeBody,
      async stop() {
        await running.stop();
        await database.handle.close();
        await database.drop();
      },
    };
  } catch (error) {
    await server?.stop();
    await database.handle.close();
    await database.drop();
    throw error;
  }
}

async function benchDialect(dialect: Dialect, pgUrl: string | null, withVerifier: boolean): Promise<DialectRun> {
  const main = await startBenchServer(dialect, pgUrl, 'bench', { working: plan.coldWarmupKeys + plan.workingKeys });
  try {
    const { server, seeded, exchangeBody, tokenUrl } = main;
    const token = (await (await fetch(tokenUrl, { ...POST, body: exchangeBody(seeded.tokenKey) })).json()) as Bench['token'];
    const b: Bench = {
      dialect,
      pgUrl,
      config: main.config,
      env: main.env,
      seeded,
      server,
      bodies: main.bodies.slice(plan.coldWarmupKeys),
      tokenUrl,
      jwksUrl: `${server.url}/.well-known/jwks.json`,
      token,
      figures: [],
      raw: { argon2: main.config.argon2 },
      memory: [],
    };
    snapshotMemory(b, 'start');

    await coldFigure(b, main.bodies.slice(0, plan.coldWarmupKeys));
    snapshotMemory(b, 'cold');
    if (runs('warm')) {
      await warmFigure(b);
      snapshotMemory(b, 'warm');
    }
    if (runs('jwks')) {
      await jwksFigure(b);
      snapshotMemory(b, 'jwks');
    }
    if (withVerifier && runs('verifier')) await verifierFigure(b);
    if (runs('latency')) {
      await latencyFigure(b);
      snapshotMemory(b, 'latency');
    }

    // 6. Peak RSS of the server over everything above.
    b.raw.metrics = (await (await fetch(`${server.url}/metrics`)).text())
      .split('\n')
      .filter((line) => /^scope_auth_(token_exchanges_total|verified_cache_lookups_total|argon2_queue_depth|argon2_verify_duration_seconds_(sum|count)|process_resident_memory_bytes|nodejs_heap_size)/.test(line));
    b.raw.memory = b.memory;
    b.figures.push(figure('6 peak RSS of the server', dialect, memoryOf(server.pid).hwm, 'MiB', null, { text: '≤ 200 MiB', test: atMost(200) }));
    return { figures: b.figures, raw: b.raw };
  } finally {
    await main.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function format(value: number, unit: string): string {
  if (unit === 'ms') return `${value.toFixed(2)} ms`;
  if (unit === 'MiB') return `${value.toFixed(0)} MiB`;
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
}

function table(figures: readonly Figure[]): string {
  const header = ['figure', 'db', 'measured', 'baseline', 'ratio', 'target', 'result', 'ratio by CPU'];
  const rows = figures.map((f) => [
    f.figure,
    f.dialect,
    format(f.measured, f.unit),
    f.baseline === null ? '—' : format(f.baseline, f.baselineUnit ?? ''),
    f.baseline === null ? '—' : f.ratio.toFixed(3),
    f.target,
    f.pass === null ? '—' : f.pass ? 'pass' : 'FAIL',
    f.cpuRatio === null ? '—' : f.cpuRatio.toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function main() {
  const pgUrl = args.pg ?? process.env.SCOPE_AUTH_TEST_DATABASE_URL ?? null;
  workDir = mkdtempSync(join(tmpdir(), 'scope-auth-bench-'));
  const started = new Date();
  const load1 = loadavg();
  const dialects: Dialect[] = args.db ? [args.db as Dialect] : pgUrl ? ['sqlite', 'postgres'] : ['sqlite'];
  if (!dialects.every((dialect) => dialect === 'sqlite' || (dialect === 'postgres' && pgUrl))) {
    throw new Error(`--db: expected sqlite, or postgres with SCOPE_AUTH_TEST_DATABASE_URL or --pg set; got ${args.db}`);
  }
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};
  try {
    loadGenerator = startLoadGenerator();
    for (const [i, dialect] of dialects.entries()) {
      const run = await benchDialect(dialect, dialect === 'postgres' ? pgUrl : null, i === 0);
      figures.push(...run.figures);
      raw[dialect] = run.raw;
    }
  } finally {
    await loadGenerator?.stop();
    for (const child of children) child.kill('SIGTERM');
    rmSync(workDir, { recursive: true, force: true });
  }
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadAverageAtStart: load1.map((n) => Number(n.toFixed(2))),
    loadAverageAtEnd: loadavg().map((n) => Number(n.toFixed(2))),
  };
  const seconds = (Date.now() - started.getTime()) / 1000;
  const report = { startedAt: started.toISOString(), seconds, plan, machine, figures, raw, scopes: BENCH_SCOPES };
  const dir = join(ROOT, 'scripts/bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

  process.stdout.write(
    `\nscope-auth benchmark (${plan.mode}) — ${machine.cpus} CPU (${machine.cpuModel}), Node ${machine.node}, ` +
      `load average ${machine.loadAverageAtStart.join(' ')} → ${machine.loadAverageAtEnd.join(' ')}, ${seconds.toFixed(0)} s\n\n`,
  );
  process.stdout.write(`${table(figures)}\n\n`);
  for (const f of figures.filter((f) => f.note)) process.stdout.write(`note (${f.figure}, ${f.dialect}): ${f.note}\n`);
  process.stdout.write(`written to ${file}\n`);
  if (!pgUrl) process.stdout.write('PostgreSQL skipped: set SCOPE_AUTH_TEST_DATABASE_URL or pass --pg <url>\n');
}

const cleanUp = () => {
  for (const child of children) child.kill('SIGTERM');
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  process.exit(130);
};
process.once('SIGINT', cleanUp);
process.once('SIGTERM', cleanUp);

await main();
