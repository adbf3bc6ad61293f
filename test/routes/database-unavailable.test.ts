// What clients see while PostgreSQL cannot answer: a token exchange gets 503
// temporarily_unavailable with Retry-After (never a hang, never a 500), an admin call a 503
// problem, /readyz a 503 within its one-second deadline; and everything answers again once
// the database is back. The app reaches the database through a TCP forwarder that the test
// stalls, as a network partition would.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { bootstrapRootOrg, type CreatedOrg } from '../../src/domain/orgs.js';
import { createServices } from '../../src/services.js';
import { createDatabase, type DatabaseHandle } from '../../src/store/database.js';
import { TEST_ENV } from '../helpers/context.js';
import { openTestDatabase, PG_URL, type TestDatabase } from '../helpers/db.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { testLogger } from '../helpers/test-logger.js';

describe.skipIf(!PG_URL)(`a PostgreSQL that cannot answer${PG_URL ? '' : ' (skipped: set SCOPE_AUTH_TEST_DATABASE_URL to run on PostgreSQL)'}`, () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let handle: DatabaseHandle;
  let app: App;
  let root: CreatedOrg;
  let stopTimers: () => Promise<void>;

  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    const target = new URL(PG_URL!);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const via = new URL(PG_URL!);
    via.port = String(proxy.port);
    const config = loadConfig({
      ...TEST_ENV,
      SCOPE_AUTH_DATABASE_ACQUIRE_TIMEOUT_MS: '500',
      SCOPE_AUTH_DATABASE_STATEMENT_TIMEOUT_MS: '700',
      // Every exchange below must reach the database: no verified-credential shortcut.
      SCOPE_AUTH_VERIFIED_CACHE_SIZE: '0',
    });
    handle = await createDatabase(via.toString(), { schema: database.schema!, pool: config.database, logger: testLogger() });
    const deps = await createServices(config, { db: handle.db, kek: randomBytes(32), logger: testLogger() });
    root = (await bootstrapRootOrg(deps))!;
    app = createApp(deps);
    stopTimers = async () => {
      deps.keyring.stop();
      await deps.lastUsed.stop().catch(() => undefined);
    };
  });
  afterAll(async () => {
    await stopTimers?.();
    await handle?.close().catch(() => undefined);
    await proxy?.close();
    await database?.close();
  });

  const exchange = () => request(app).post('/v1/token').send({ org_id: root.org.id, key_id: root.key.id, secret: root.secret });

  async function adminToken(): Promise<string> {
    const res = await exchange().expect(200);
    return (res.body as { access_token: string }).access_token;
  }

  it('answers an exchange with 503 temporarily_unavailable and Retry-After during a stall, then 200 once it ends', async () => {
    await exchange().expect(200);
    proxy.stall();
    try {
      const started = Date.now();
      const res = await exchange();
      expect(Date.now() - started).toBeLessThan(5000);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: 'the server cannot complete the exchange right now; retry later' });
    } finally {
      proxy.resume();
    }
    await exchange().expect(200);
  });

  it('answers an admin call with a 503 problem and Retry-After during a stall', async () => {
    const token = await adminToken();
    proxy.stall();
    try {
      const res = await request(app).get('/v1/apps').set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body).toMatchObject({ status: 503, code: 'unavailable' });
      expect(JSON.stringify(res.body)).not.toMatch(/select|timeout|pg/i);
    } finally {
      proxy.resume();
    }
    await request(app).get('/v1/apps').set('Authorization', `Bearer ${token}`).expect(200);
  });

  it('reports not ready within about a second during a stall', async () => {
    proxy.stall();
    try {
      const started = Date.now();
      const res = await request(app).get('/readyz');
      expect(Date.now() - started).toBeLessThan(2500);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ status: 'not_ready', checks: { database: 'timeout', signing_key: 'ok' } });
    } finally {
      proxy.resume();
    }
    await request(app).get('/readyz').expect(200);
  });

  it('answers 503 when a statement runs into its timeout behind a lock, not 500', async () => {
    const locker = new pg.Client({ connectionString: PG_URL });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query(`lock table ${database.schema}.api_keys in access exclusive mode`);
      const res = await exchange();
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('temporarily_unavailable');
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    await exchange().expect(200);
  });

  it('recovers after every connection is cut at once', async () => {
    await exchange().expect(200);
    proxy.cut();
    // The first request may meet a connection the pool has not yet heard is gone; the read
    // is retried once on a fresh one, so the client sees no error at all.
    await exchange().expect(200);
  });
});
