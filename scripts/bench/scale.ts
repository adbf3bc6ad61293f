// Figure 7 (PostgreSQL only): what a second server instance on the same database adds, and
// what each exchange costs the database — the figure that says how many instances one
// primary carries.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';
import { POST, coldExchanges, log, throughputJob, type Bench } from './bench.js';
import { alternate, expectAllOk, figure } from './figures.js';
import { usage, type Running } from './processes.js';
import { startBenchServer, startScopeAuth } from './server.js';
import { freePort } from '../free-port.js';

/** The PostgreSQL backends serving the connections opened under one application_name. */
async function postgresBackends(pgUrl: string, applicationName: string) {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  const pids = async () => (await client.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [applicationName])).rows.map((row) => row.pid);
  return {
    /** Runs `run`, and sums the CPU its backends spent meanwhile. */
    async cpuDuring<T>(run: () => Promise<T>): Promise<{ value: T; cpuMs: number; read: number; lost: number }> {
      const before = new Map((await pids()).map((pid) => [pid, backendCpuMs(pid)]));
      const value = await run();
      const after = new Map([...before.keys()].map((pid) => [pid, backendCpuMs(pid)]));
      // A connection the pool opened meanwhile: all of its backend's CPU is the run's.
      for (const pid of await pids()) {
        if (before.has(pid)) continue;
        before.set(pid, 0);
        after.set(pid, backendCpuMs(pid));
      }
      let cpuMs = 0;
      let read = 0;
      let lost = 0;
      for (const [pid, start] of before) {
        const end = after.get(pid);
        if (start === undefined) continue;
        if (end === undefined) {
          lost++; // closed meanwhile: its last CPU went with it
        } else {
          cpuMs += end - start;
          read++;
        }
      }
      return { value, cpuMs, read, lost };
    },
    close: () => client.end(),
  };
}

/**
 * CPU so far of a backend, a child of the local postmaster (readable as root or as its
 * user); undefined when the pid is not a postgres process of this host — a database
 * elsewhere has pids of its own.
 */
function backendCpuMs(pid: number): number | undefined {
  try {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'postgres') return undefined;
    return usage(pid).cpuMs;
  } catch {
    return undefined;
  }
}

/**
 * 7. Warm-exchange throughput of two server instances on one database ÷ one. Both are
 * started alike (the same environment but the port, so the same issuer and an explicit
 * SCOPE_AUTH_KEK both decrypt the signing keys with) on a database of their own seeded as
 * the others are. The same load-generator process drives both sides with the same number
 * of connections, split evenly over the instances on the two-instance side, so its CPU is
 * the same on both. Each round also reads the CPU of the instances driven and of the
 * PostgreSQL backends serving them (found in pg_stat_activity by the application_name in
 * the instances' database URL).
 */
export async function scaleFigure(b: Bench) {
  const { plan } = b;
  log(`${b.dialect}: two server instances on one database`);
  const first = await startBenchServer(b, b.dialect, b.pgUrl, 'scale', { working: plan.latencyKeys }, { SCOPE_AUTH_KEK: randomBytes(32).toString('base64') });
  let second: Running | undefined;
  let backends: Awaited<ReturnType<typeof postgresBackends>> | undefined;
  try {
    second = await startScopeAuth(b.processes, b.serverCommand, { ...first.env, SCOPE_AUTH_PORT: String(await freePort()) });
    log(`${b.dialect}: second instance ${second.url} (pid ${second.pid})`);
    backends = await postgresBackends(b.pgUrl!, first.database.applicationName!);
    const instances = [first.server, second];
    const urls = instances.map((server) => `${server.url}/v1/token`);
    // The verified cache is each process's own: every key is exchanged cold once on each.
    const cold = coldExchanges(urls[0]!, first.bodies, first.config);
    await b.load({ ...cold, urls, connections: cold.connections * urls.length });
    const job = (count: number) => throughputJob(plan, urls[0]!, { ...POST, bodies: first.bodies, ...(count > 1 ? { urls: urls.slice(0, count) } : {}) });
    for (const count of [1, 2]) await b.load({ ...job(count), durationSeconds: plan.warmupSeconds });

    const measure = async (count: number) => {
      const driven = instances.slice(0, count);
      const backend = await backends!.cpuDuring(async () => {
        const before = driven.map((server) => usage(server.pid).cpuMs);
        // No pid to the load: the CPU of the instances (and of the backends) is read here.
        const loaded = await b.load(job(count));
        return { loaded, serverMs: driven.map((server, i) => usage(server.pid).cpuMs - before[i]!) };
      });
      const { requests, statuses, errors, seconds, rps, latencyMs, parts } = backend.value.loaded;
      const { serverMs } = backend.value;
      const part = (i: number) => parts?.[i] ?? { requests, rps };
      return {
        requests,
        statuses,
        errors,
        seconds,
        rps,
        latencyMs,
        // The instances' CPU over the exchanges they answered (with two, both over all of them).
        cpuMsPerRequest: serverMs.reduce((a, b) => a + b, 0) / Math.max(1, requests),
        instances: driven.map((server, i) => ({ pid: server.pid, requests: part(i).requests, rps: part(i).rps, cpuMsPerRequest: serverMs[i]! / Math.max(1, part(i).requests) })),
        backendCpuMsPerRequest: backend.read > 0 ? backend.cpuMs / Math.max(1, requests) : NaN,
        backends: backend.read,
        backendsLost: backend.lost,
      };
    };

    log(`${b.dialect}: warm exchanges on one instance and on two, alternately`);
    type Round = Awaited<ReturnType<typeof measure>>;
    const rounds: Record<'one' | 'two', Round[]> = { one: [], two: [] };
    const kept = (side: Round[], count: number) => async () => {
      const round = await measure(count);
      side.push(round);
      return round;
    };
    const [one, two] = await alternate(plan.rounds, kept(rounds.one, 1), kept(rounds.two, 2));
    // The lowest over the rounds, as for the servers' CPU: the least disturbed measure of it.
    const lowestBackend = (side: typeof rounds.one) => Math.min(...side.map((r) => r.backendCpuMsPerRequest).filter(Number.isFinite));
    const backendOne = rounds.one.some((r) => Number.isFinite(r.backendCpuMsPerRequest)) ? lowestBackend(rounds.one) : NaN;
    const backendTwo = rounds.two.some((r) => Number.isFinite(r.backendCpuMsPerRequest)) ? lowestBackend(rounds.two) : NaN;
    b.raw.scaleOne = { ...one, backendCpuMsPerRequest: backendOne };
    b.raw.scaleTwo = { ...two, backendCpuMsPerRequest: backendTwo };

    const info = { text: '(info)', test: null };
    const bound =
      `bounded by this machine: its ${cpus().length} CPUs run both instances, the load generator and PostgreSQL, ` +
      'so a second instance mostly takes CPU from the first; the CPU per exchange (next rows) is what carries over to a larger host';
    const database = Number.isFinite(backendTwo)
      ? `PostgreSQL spends ${backendTwo.toFixed(3)} ms of CPU per warm exchange (the backends of both instances), ` +
        `so one core of the primary answers about ${(Math.round(10 / backendTwo) * 100).toLocaleString('en')} exchanges a second, ` +
        `as many as ${(two.cpuMsPerRequest / backendTwo).toFixed(1)} server cores send it (server CPU per exchange ÷ PostgreSQL CPU per exchange)`
      : 'PostgreSQL backends not readable from /proc: the database is not on this host, or its processes are not readable by this user';
    b.figures.push(
      figure('7 warm exchange, 2 instances ÷ 1', b.dialect, two.rps, 'req/s', { value: one.rps, unit: 'req/s' }, info, {
        note: [expectAllOk('scale, one instance', one), expectAllOk('scale, two instances', two), bound].filter(Boolean).join('; '),
      }),
      figure('7 server CPU per exchange, 2 instances ÷ 1', b.dialect, two.cpuMsPerRequest, 'CPU ms', { value: one.cpuMsPerRequest, unit: 'CPU ms' }, info),
      figure('7 PostgreSQL CPU per exchange, 2 instances ÷ 1', b.dialect, backendTwo, 'CPU ms', { value: backendOne, unit: 'CPU ms' }, info, { note: database }),
    );
  } finally {
    await backends?.close();
    await second?.stop();
    await first.stop();
  }
}
