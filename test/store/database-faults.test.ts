// The database's bad days, on a real PostgreSQL: a backend terminated under an idle pooled
// connection, every connection cut at once, a network stall, a database not up yet. Before,
// the first two ended the process (the pool's 'error' event had no listener) and a stall made
// every query wait as long as it lasted.
import { pino } from 'pino';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForDatabase } from '../../src/store/availability.js';
import { createDatabase, ping, type DatabaseHandle } from '../../src/store/database.js';
import { PG_URL } from '../helpers/db.js';
import { freePort } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { testLogger } from '../helpers/test-logger.js';

const pgTarget = () => {
  const url = new URL(PG_URL!);
  return { host: url.hostname, port: Number(url.port || 5432), url };
};

/** The same database, reached through `port` (a proxy), with a name to find our connections by. */
function urlVia(port: number | null, applicationName: string): string {
  const { url } = pgTarget();
  const copy = new URL(url);
  if (port !== null) copy.port = String(port);
  copy.searchParams.set('application_name', applicationName);
  return copy.toString();
}

function captureLogs() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, lines };
}

async function terminate(applicationName: string): Promise<number> {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>(
      'select pg_terminate_backend(pid) as done, pid from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
      [applicationName],
    );
    return rows.length;
  } finally {
    await admin.end();
  }
}

const SMALL_POOL = { poolSize: 4, acquireTimeoutMs: 500, statementTimeoutMs: 800 };

describe.skipIf(!PG_URL)(`PostgreSQL faults${PG_URL ? '' : ' (skipped: set SCOPE_AUTH_TEST_DATABASE_URL to run on PostgreSQL)'}`, () => {
  const handles: DatabaseHandle[] = [];
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    for (const handle of handles.splice(0)) await handle.close().catch(() => undefined);
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  async function open(url: string, logger = testLogger()) {
    const handle = await createDatabase(url, { pool: SMALL_POOL, logger });
    handles.push(handle);
    return handle;
  }

  it('keeps running when PostgreSQL terminates its idle pooled connections, and the next query reconnects', async () => {
    const name = `faults_idle_${process.pid}`;
    const { logger, lines } = captureLogs();
    const handle = await open(urlVia(null, name), logger);
    // Four connections, all idle in the pool afterwards.
    await Promise.all([1, 2, 3, 4].map(() => ping(handle.db)));
    expect(await terminate(name)).toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Had the pool's 'error' gone unheard, this test process would have died by now.
    await ping(handle.db);
    expect(lines.some((line) => line.level === 40 && /connection lost while idle/.test(line.msg))).toBe(true);
  });

  it('keeps running when a connection is terminated while checked out between the statements of a transaction', async () => {
    const name = `faults_held_${process.pid}`;
    const { logger, lines } = captureLogs();
    const handle = await open(urlVia(null, name), logger);
    const transaction = handle.db.transaction().execute(async (trx) => {
      await sql`select 1`.execute(trx);
      // The connection is held, idle, by this transaction: no query of it is running.
      expect(await terminate(name)).toBeGreaterThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await sql`select 1`.execute(trx);
    });
    // Had the held client's 'error' gone unheard, this test process would have died by now.
    await expect(transaction).rejects.toThrow();
    expect(lines.some((line) => line.level === 40 && /connection lost while in use/.test(line.msg))).toBe(true);
    await ping(handle.db);
  });

  it('answers the next reads after every connection is cut at once, as in a failover', async () => {
    const { host, port } = pgTarget();
    const proxy = await startTcpProxy({ host, port });
    proxies.push(proxy);
    const handle = await open(urlVia(proxy.port, `faults_cut_${process.pid}`));
    await Promise.all([1, 2, 3].map(() => ping(handle.db)));
    proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await ping(handle.db);
    await ping(handle.db);
  });

  it('fails a query within its timeouts during a network stall instead of waiting for the stall to end', async () => {
    const { host, port } = pgTarget();
    const proxy = await startTcpProxy({ host, port });
    proxies.push(proxy);
    const handle = await open(urlVia(proxy.port, `faults_stall_${process.pid}`));
    await ping(handle.db);
    proxy.stall();
    const started = Date.now();
    await expect(ping(handle.db)).rejects.toThrow();
    // statement timeout 800 ms + the client's 1 s margin; the stall itself would last forever.
    expect(Date.now() - started).toBeLessThan(5000);
    proxy.resume();
    // The connection that timed out was discarded; a fresh one answers.
    await ping(handle.db);
  });

  it('waits at startup for a database that comes up a moment later', async () => {
    const { host, port } = pgTarget();
    const later = await freePort();
    const handle = await open(urlVia(later, `faults_later_${process.pid}`));
    const { logger, lines } = captureLogs();
    const comingUp = new Promise<void>((resolve) =>
      setTimeout(() => {
        void startTcpProxy({ host, port }, later).then((proxy) => {
          proxies.push(proxy);
          resolve();
        });
      }, 700),
    );
    await waitForDatabase(() => ping(handle.db), { timeoutMs: 10_000, logger, initialDelayMs: 100 });
    await comingUp;
    const retries = lines.filter((line) => /database unreachable; retrying/.test(line.msg));
    expect(retries.length).toBeGreaterThanOrEqual(2);
  });

  it('gives up after the connect timeout, naming the attempts and the last error', async () => {
    const nowhere = await freePort();
    const handle = await open(urlVia(nowhere, `faults_nowhere_${process.pid}`));
    await expect(waitForDatabase(() => ping(handle.db), { timeoutMs: 600, initialDelayMs: 100 })).rejects.toThrow(
      /^the database is unreachable \(\d+ attempts over 1 s\): .*ECONNREFUSED|connect/,
    );
  });
});
