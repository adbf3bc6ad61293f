// The server's own events reach a real receiver through the outbox, end to end: a real server
// process (src/main.ts, as `npm start` runs it) on SQLite, and on PostgreSQL in a schema of
// this file's own, sends to an HTTP receiver on 127.0.0.1 what a leak report and the
// key-policy sweeper do, each delivery verified with the standardwebhooks library under the
// secret the registration answered. Nothing here is a fake: the clock, the deliverer, the
// sweeper and the sockets are the server's; only one key's last use is seeded in the
// database (below, why). The retry after a 500 waits for the real first backoff (10 s ±25 %).
//
// The sweeper part runs on a second process on the same database. The first one, on the
// default interval (5 minutes, first run one interval after start), never sweeps during the
// test, so the keys are set up without a sweep racing them; the second sweeps every second
// (SCOPE_AUTH_KEY_POLICY_INTERVAL_MS) and runs at debug, where each sweep logs its counts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/store/database.js';
import { databaseUrlFor } from '../helpers/cli.js';
import { TEST_ENV } from '../helpers/context.js';
import { DIALECTS, dialectTitle, PG_URL } from '../helpers/db.js';
import { sha256 } from '../helpers/leaks.js';
import { freePort } from '../helpers/server.js';
import { killServer, spawnServer, waitReady, type ServerProcess } from '../helpers/server-process.js';
import { within } from '../helpers/wait.js';
import { startReceiver, type Received, type Receiver } from '../helpers/webhooks.js';

const DAY = 86_400_000;
const EVENTS = ['key.revoked', 'key.expiring', 'key.expired'];
const POLL_INTERVAL_MS = 200;
const SWEEP_INTERVAL_MS = 1000;
const UNUSED_DAYS = 30;

interface WebhookEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

interface Delivery {
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_response: string | null;
  last_error: string | null;
  delivered_at: string | null;
}

interface SweepLine {
  revoked_unused: number;
  kept_last_root_admin: number;
  unused_warnings: number;
  expiring: number;
  expired: number;
}

/** Each sweep the process logged, in order (at debug when it did nothing, at info when it did). */
function sweepsOf(server: ServerProcess): SweepLine[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line.includes('"key policies swept"'))
    .map((line) => JSON.parse(line) as SweepLine);
}

describe.each(DIALECTS)('webhook events from a real server process on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let dir: string;
    let url: string;
    let env: Record<string, string>;
    let schema: string | undefined;
    let receiver: Receiver;
    const started: ServerProcess[] = [];
    let server: ServerProcess;
    let root: { orgId: string; keyId: string; secret: string };
    let token: string;
    let webhook: { id: string; secret: string };

    async function start(extra: Record<string, string> = {}): Promise<ServerProcess> {
      const instance = spawnServer(dir, { ...env, ...extra }, 'e2e-webhooks');
      started.push(instance);
      await waitReady(instance, url);
      return instance;
    }

    async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
    }

    async function exchange(credentials: { orgId: string; keyId: string; secret: string }): Promise<Response> {
      return fetch(`${url}/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ org_id: credentials.orgId, key_id: credentials.keyId, secret: credentials.secret }),
      });
    }

    async function signIn(): Promise<void> {
      const res = await exchange(root);
      expect(res.status).toBe(200);
      token = ((await res.json()) as { access_token: string }).access_token;
    }

    /** What the receiver was sent, verified as a receiver verifies it: throws unless it is signed under the webhook's secret, now. */
    const verified = (message: Received) => new Webhook(webhook.secret).verify(message.body, message.headers as Record<string, string>) as WebhookEvent;

    async function deliveries(): Promise<Delivery[]> {
      const res = await api<{ data: Delivery[]; next_cursor: string | null }>('GET', `/v1/webhooks/${webhook.id}/deliveries?limit=100`);
      expect(res.status).toBe(200);
      return res.body.data;
    }

    async function createKey(appId: string, name: string, expiresAt: number | null) {
      const res = await api<{ key: { id: string; expires_at: string | null }; secret: string }>('POST', `/v1/apps/${appId}/keys`, {
        name,
        ...(expiresAt === null ? {} : { expires_at: new Date(expiresAt).toISOString() }),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return { id: res.body.key.id, name, secret: res.body.secret, expiresAt };
    }

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'scope-auth-e2e-webhooks-'));
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      let databaseUrl = `sqlite:${join(dir, 'scope-auth.sqlite')}`;
      if (dialectCase.dialect === 'postgres') {
        schema = `e_${randomBytes(6).toString('hex')}`;
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`create schema ${schema}`);
        await admin.end();
        databaseUrl = databaseUrlFor({ url: PG_URL!, schema });
      }
      receiver = await startReceiver('/scope-auth');
      env = {
        ...(TEST_ENV as Record<string, string>),
        SCOPE_AUTH_PORT: String(port),
        SCOPE_AUTH_ISSUER: url,
        SCOPE_AUTH_DATABASE_URL: databaseUrl,
        SCOPE_AUTH_KEYS_DIR: join(dir, 'keys'),
        SCOPE_AUTH_LOG_LEVEL: 'debug',
        SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP: 'true',
        SCOPE_AUTH_WEBHOOKS_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
      };
      server = await start();
      // Its stdout is no terminal: the first start wrote the root credentials to this file.
      const written = readFileSync(join(dir, 'keys/root-credentials.env'), 'utf8');
      const pick = (name: string) => new RegExp(`^${name}=(\\S+)$`, 'm').exec(written)![1]!;
      root = { orgId: pick('SCOPE_ORG_ID'), keyId: pick('SCOPE_API_KEY'), secret: pick('SCOPE_API_SECRET') };
      await signIn();
    });

    afterAll(async () => {
      for (const instance of started) await killServer(instance);
      await receiver?.close();
      if (schema !== undefined) {
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        await admin.query(`drop schema if exists ${schema} cascade`);
        await admin.end();
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('registers a webhook for key.revoked, key.expiring and key.expired at an http receiver on 127.0.0.1', async () => {
      const res = await api<{ webhook: { id: string; url: string; events: string[]; enabled: boolean }; secret: string }>('POST', '/v1/webhooks', {
        url: receiver.url,
        events: EVENTS,
        description: 'end to end',
      });
      expect(res.status).toBe(201);
      expect(res.body.webhook).toMatchObject({ url: receiver.url, events: EVENTS, enabled: true });
      expect(res.body.secret).toMatch(/^whsec_/);
      webhook = { id: res.body.webhook.id, secret: res.body.secret };
    });

    it('sends key.revoked (reason leaked) for a key whose secret is reported to /v1/leaks, and retries it after the receiver answered 500', async () => {
      const app = await api<{ id: string }>('POST', '/v1/apps', { name: 'deploy bot', scopes: ['agents:view'] });
      expect(app.status).toBe(201);
      const key = await createKey(app.body.id, 'ci deploy', null);
      receiver.answer({ status: 500, body: 'receiver down' });

      const reportedAt = Date.now();
      const where = 'https://github.com/acme/app/blob/main/.env';
      const report = await fetch(`${url}/v1/leaks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ token: key.secret, type: 'scope_auth_secret', url: where, source: 'content' }]),
      });
      expect(report.status).toBe(200);
      expect(await report.json()).toEqual([{ token_hash: sha256(key.secret), token_type: 'scope_auth_secret', label: 'true_positive' }]);
      // Revoked at once, before any delivery.
      expect((await exchange({ orgId: root.orgId, keyId: key.id, secret: key.secret })).status).toBe(401);

      await within(10_000, () => receiver.received.length >= 1);
      const first = receiver.received[0]!;
      const event = verified(first);
      expect(event.type).toBe('key.revoked');
      expect(Date.parse(event.timestamp)).toBeGreaterThanOrEqual(reportedAt - 1000);
      expect(Date.parse(event.timestamp)).toBeLessThanOrEqual(Date.now());
      expect(event.data).toMatchObject({ org_id: root.orgId, object: 'key', id: key.id, actor: 'system', app_id: app.body.id, name: 'ci deploy', reason: 'leaked', url: where });
      expect(first.body).not.toContain(key.secret);
      expect(first.headers['webhook-id']).toMatch(/^evt_/);
      expect(first.headers['content-type']).toBe('application/json');
      // The check can fail: the same delivery with one byte of its body changed is refused.
      expect(() => verified({ ...first, body: first.body.replace('"leaked"', '"Leaked"') })).toThrow();

      // The 500 is recorded, and the delivery waits for its retry (10 s ± 25 %).
      await within(5_000, async () => (await deliveries())[0]?.attempts === 1);
      expect(await deliveries()).toEqual([
        expect.objectContaining({ event_id: first.headers['webhook-id'], event_type: 'key.revoked', status: 'pending', attempts: 1, last_status_code: 500, last_response: 'receiver down', last_error: 'the receiver answered 500', delivered_at: null }),
      ]);

      await within(20_000, () => receiver.received.length >= 2);
      const retry = receiver.received[1]!;
      expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id']);
      expect(retry.body).toBe(first.body);
      expect(verified(retry)).toEqual(event);
      await within(5_000, async () => (await deliveries())[0]?.status === 'delivered');
      expect(await deliveries()).toEqual([
        expect.objectContaining({ event_id: first.headers['webhook-id'], status: 'delivered', attempts: 2, last_status_code: 200, last_response: 'ok', last_error: null, delivered_at: expect.any(String) }),
      ]);
    }, 60_000);

    it('sends key.expiring, key.expired and key.revoked (reason unused) from the sweeper, each exactly once over later sweeps', async () => {
      const app = await api<{ id: string }>('POST', '/v1/apps', { name: 'batch jobs', scopes: ['agents:view'] });
      expect(app.status).toBe(201);
      const expiring = await createKey(app.body.id, 'expiring soon', Date.now() + 3 * DAY);
      const expired = await createKey(app.body.id, 'expired', Date.now() + 2000);
      const idle = await createKey(app.body.id, 'idle', null);
      const policy = await api<{ auto_revoke_unused_days: number }>('PATCH', `/v1/orgs/${root.orgId}`, { auto_revoke_unused_days: UNUSED_DAYS });
      expect(policy.status).toBe(200);
      expect(policy.body.auto_revoke_unused_days).toBe(UNUSED_DAYS);

      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      // On the default interval the first process never swept: nothing above raced a sweep.
      expect(sweepsOf(server)).toEqual([]);

      // A key last used 35 days ago cannot be made through the API (the server writes
      // last_used_at with its own clock at each exchange), so its row's times are seeded in
      // the database the server uses, while no server runs on it.
      const idleSince = Date.now() - 35 * DAY;
      const seeding = await createDatabase(dialectCase.dialect === 'sqlite' ? env.SCOPE_AUTH_DATABASE_URL! : PG_URL!, schema === undefined ? {} : { schema });
      try {
        const seeded = await seeding.db.updateTable('api_keys').set({ created_at: idleSince - 5 * DAY, last_used_at: idleSince }).where('id', '=', idle.id).executeTakeFirst();
        expect(Number(seeded.numUpdatedRows)).toBe(1);
      } finally {
        await seeding.close();
      }
      // The other key's expiry passes for real.
      await within(5_000, () => Date.now() > expired.expiresAt! + 100);

      server = await start({ SCOPE_AUTH_KEY_POLICY_INTERVAL_MS: String(SWEEP_INTERVAL_MS) });
      await signIn();
      await within(20_000, () => receiver.received.length >= 5);
      // Two more sweeps after the one that acted, and time for the deliverer to send anything they made.
      await within(15_000, () => {
        const sweeps = sweepsOf(server);
        const acted = sweeps.findIndex((sweep) => sweep.expired > 0);
        return acted >= 0 && sweeps.length >= acted + 3;
      });
      await new Promise((resolve) => setTimeout(resolve, 3 * POLL_INTERVAL_MS));

      const sent = receiver.received.slice(2);
      expect(sent).toHaveLength(3);
      const events = sent.map(verified);
      const byType = new Map(events.map((event) => [event.type, event]));
      expect([...byType.keys()].sort()).toEqual(['key.expired', 'key.expiring', 'key.revoked']);
      const envelope = { org_id: root.orgId, object: 'key', actor: 'system', app_id: app.body.id };
      expect(byType.get('key.expiring')!.data).toMatchObject({ ...envelope, id: expiring.id, name: 'expiring soon', reason: 'expiry', expires_at: new Date(expiring.expiresAt!).toISOString() });
      expect(byType.get('key.expired')!.data).toMatchObject({ ...envelope, id: expired.id, name: 'expired', expires_at: new Date(expired.expiresAt!).toISOString() });
      expect(byType.get('key.revoked')!.data).toMatchObject({ ...envelope, id: idle.id, name: 'idle', reason: 'unused', unused_days: UNUSED_DAYS, last_used_at: new Date(idleSince).toISOString() });
      for (const message of sent) for (const key of [expiring, expired, idle]) expect(message.body).not.toContain(key.secret);

      // The sweeps' own counts say the same: one of each, and nothing more in the later sweeps.
      const sweeps = sweepsOf(server);
      const total = (name: keyof SweepLine) => sweeps.reduce((sum, sweep) => sum + sweep[name], 0);
      expect({ revoked: total('revoked_unused'), warnings: total('unused_warnings'), expiring: total('expiring'), expired: total('expired'), kept: total('kept_last_root_admin') }).toEqual({
        revoked: 1,
        warnings: 0,
        expiring: 1,
        expired: 1,
        kept: 0,
      });
      expect((await exchange({ orgId: root.orgId, keyId: idle.id, secret: idle.secret })).status).toBe(401);

      // Every event, the leak's included, is listed as delivered with the receiver's 200, once.
      const listed = await deliveries();
      const sentIds = receiver.received.map((message) => message.headers['webhook-id']);
      expect(listed).toHaveLength(4);
      expect(new Set(listed.map((d) => d.event_id))).toEqual(new Set(sentIds));
      for (const delivery of listed) expect(delivery).toMatchObject({ status: 'delivered', last_status_code: 200, last_error: null, delivered_at: expect.any(String) });
      expect(listed.map((d) => d.event_type).sort()).toEqual(['key.expired', 'key.expiring', 'key.revoked', 'key.revoked']);
    }, 90_000);
  });
});
