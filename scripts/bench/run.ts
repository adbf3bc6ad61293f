// `npm run bench`: where scope-auth stands against what its work costs at the least.
//
// Starts the real server as `npm start` does (bin/serve.cjs with the start script's Node
// options) as a child process on loopback with a temporary database and keys directory,
// seeds the database directly, drives the server from a separate load-generator process
// (autocannon, bounded in requests and time), runs each baseline as a bare process of its
// own, alternately with the figure it is compared with, and prints one table — also
// written as JSON to scripts/bench/results/.
// SQLite always; PostgreSQL too when SCOPE_AUTH_TEST_DATABASE_URL or --pg <url> is set.
// docs/internals.md "Performance" explains the figures.
//
// This file is the entry: the arguments, which figures run in which order (and figure 6,
// the server's peak RSS), the report. The other figures are exchange-figures.ts (1, 2),
// sign-in-figure.ts (1b),
// read-figures.ts (3, 4), latency.ts (5), scale.ts (7, PostgreSQL only) and flood.ts (8, 9:
// an argon2 flood from many addresses, and the timing of refusals); what they share
// is in bench.ts, the server under test and its database in server.ts, the child processes
// and /proc in processes.ts, the load generator in load.ts (the process, with
// address-load.ts for load from many client addresses) and measure.ts (driving it), the rows and the table in figures.ts, the run sizes in plan.ts.
//
//   npm run bench                      full run (about 5 minutes with PostgreSQL)
//   npm run bench -- --quick           smaller and shorter, to check that it works
//   npm run bench -- --pg postgres://postgres@127.0.0.1:5432/test
//   npm run bench -- --keys 20000      the "large" key count (default 100,000)
//   npm run bench -- --source          run the server from src/ with tsx instead of dist/
//   npm run bench -- --server path/to/bin/serve.cjs   another build of the server (to compare), same Node options
//   npm run bench -- --env NAME=VALUE  extra server environment (repeatable)
//   npm run bench -- --only warm,latency        some figures only: cold, signin, warm, jwks, verifier, latency, scale, flood, timing
//   npm run bench -- --db postgres     one database only (sqlite or postgres; the verifier runs on the first)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Dialect } from '../../src/store/database.js';
import { snapshotMemory, POST, type Bench, type Rig } from './bench.js';
import { coldFigure, warmFigure } from './exchange-figures.js';
import { atMost, figure, table, type Figure } from './figures.js';
import { abuseFigures } from './flood.js';
import { latencyFigure } from './latency.js';
import { startLoadGenerator, type LoadGenerator } from './measure.js';
import { PHASES, planFor, type Phase } from './plan.js';
import { ROOT, createProcesses, memoryOf } from './processes.js';
import { jwksFigure, verifierFigure } from './read-figures.js';
import { scaleFigure } from './scale.js';
import { signInFigure } from './sign-in-figure.js';
import { BENCH_SCOPES } from './seed.js';
import { serverCommand, startBenchServer } from './server.js';

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

const only = new Set(args.only ? args.only.split(',') : PHASES);
for (const phase of only) if (!(PHASES as readonly string[]).includes(phase)) throw new Error(`--only: unknown figure ${phase}`);
/** Whether a phase runs: everything unless --only names some. */
const runs = (phase: Phase) => only.has(phase);

/** `--env NAME=VALUE` (repeatable): extra environment of the server, e.g. SCOPE_AUTH_ARGON2_CONCURRENCY=4. */
const serverEnv = Object.fromEntries(
  (args.env ?? []).map((pair) => {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--env expects NAME=VALUE, got ${pair}`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);

const plan = planFor(args.quick === true, Number(args.keys ?? 100_000));

interface DialectRun {
  readonly figures: Figure[];
  readonly raw: Record<string, unknown>;
}

async function benchDialect(rig: Rig, dialect: Dialect, pgUrl: string | null, withVerifier: boolean): Promise<DialectRun> {
  const main = await startBenchServer(rig, dialect, pgUrl, 'bench', { working: plan.coldWarmupKeys + plan.workingKeys });
  try {
    const { server, seeded, exchangeBody, tokenUrl } = main;
    const token = (await (await fetch(tokenUrl, { ...POST, body: exchangeBody(seeded.tokenKey) })).json()) as Bench['token'];
    const b: Bench = {
      ...rig,
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

    await coldFigure(b, main.bodies.slice(0, plan.coldWarmupKeys), runs('cold'));
    snapshotMemory(b, 'cold');
    if (runs('signin')) {
      await signInFigure(b);
      snapshotMemory(b, 'signin');
    }
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
      .filter((line) => /^(scope_auth_(token_exchanges_total|verified_cache_lookups_total|argon2_queue_depth|argon2_verify_duration_seconds_(sum|count))|process_resident_memory_bytes|nodejs_heap_size)/.test(line));
    b.raw.memory = b.memory;
    b.figures.push(figure('6 peak RSS of the server', dialect, memoryOf(server.pid).hwm, 'MiB', null, { text: '≤ 200 MiB', test: atMost(200) }));
    // 7. Two instances on one database; servers and a database of their own.
    if (dialect === 'postgres' && runs('scale')) await scaleFigure(b);
    // 8, 9. Abuse: an argon2 flood from many addresses, the timing of refusals; a server of their own.
    if (runs('flood') || runs('timing')) await abuseFigures(b, { flood: runs('flood'), timing: runs('timing') });
    return { figures: b.figures, raw: b.raw };
  } finally {
    await main.stop();
  }
}

async function main() {
  const pgUrl = args.pg ?? process.env.SCOPE_AUTH_TEST_DATABASE_URL ?? null;
  const command = serverCommand({ server: args.server, source: args.source === true, env: serverEnv });
  const processes = createProcesses();
  const workDir = mkdtempSync(join(tmpdir(), 'scope-auth-bench-'));
  const cleanUp = () => {
    processes.killAll();
    rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', cleanUp);
  process.once('SIGTERM', cleanUp);
  const started = new Date();
  const load1 = loadavg();
  const dialects: Dialect[] = args.db ? [args.db as Dialect] : pgUrl ? ['sqlite', 'postgres'] : ['sqlite'];
  if (!dialects.every((dialect) => dialect === 'sqlite' || (dialect === 'postgres' && pgUrl))) {
    throw new Error(`--db: expected sqlite, or postgres with SCOPE_AUTH_TEST_DATABASE_URL or --pg set; got ${args.db}`);
  }
  const figures: Figure[] = [];
  const raw: Record<string, unknown> = {};
  let loadGenerator: LoadGenerator | undefined;
  try {
    loadGenerator = startLoadGenerator(processes);
    const rig: Rig = { plan, processes, load: loadGenerator.measure, sources: loadGenerator.sources, workDir, serverCommand: command };
    for (const [i, dialect] of dialects.entries()) {
      const run = await benchDialect(rig, dialect, dialect === 'postgres' ? pgUrl : null, i === 0);
      figures.push(...run.figures);
      raw[dialect] = run.raw;
    }
  } finally {
    await loadGenerator?.stop();
    processes.killAll();
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

await main();
