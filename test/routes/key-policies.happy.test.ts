// Per-key scopes and IP allow-lists, as an admin uses them: a key narrower than its app, an
// app whose keys exchange only from some addresses, and both kept when a key is rolled.
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { auditEvents } from '../helpers/admin.js';
import { QueryCounter } from '../helpers/query-counter.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('per-key scopes and IP allow-lists, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    beforeAll(async () => {
      // Behind a proxy that names the client in X-Forwarded-For, as the tests pick addresses.
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_TRUST_PROXY: 'true' } });
      admin = await ctx.tokenFor(['admin.apps:full', 'admin.audit:view']);
    });
    afterAll(async () => ctx?.close());
    beforeEach(async () => {
      admin.token = await ctx.tokenOf(admin);
    });

    const auth = (req: request.Test) => req.set('Authorization', `Bearer ${admin.token}`);
    const post = (path: string, body: object) => auth(request(ctx.app).post(path)).send(body);
    const patch = (path: string, body: object) => auth(request(ctx.app).patch(path)).send(body);
    const get = (path: string) => auth(request(ctx.app).get(path));
    const exchangeFrom = (ip: string, creds: { keyId: string; secret: string }, scope?: string) =>
      request(ctx.app)
        .post('/v1/token')
        .set('X-Forwarded-For', ip)
        .send({ org_id: admin.orgId, key_id: creds.keyId, secret: creds.secret, ...(scope === undefined ? {} : { scope }) });

    async function newApp(body: object) {
      return (await post('/v1/apps', { name: 'svc', ...body }).expect(201)).body as { id: string; allowed_ips: string[] | null };
    }
    async function newKey(appId: string, body: object = {}) {
      const res = await post(`/v1/apps/${appId}/keys`, { name: 'worker', ...body }).expect(201);
      return { keyId: res.body.key.id as string, secret: res.body.secret as string, key: res.body.key };
    }

    it('creates a key with a subset of its app’s scopes; its tokens carry only those', async () => {
      const app = await newApp({ scopes: ['agents:edit', 'runtime:run', 'tools:deploy'] });
      const key = await newKey(app.id, { scopes: ['tools:deploy', 'agents:view', 'tools:deploy'] });
      expect(key.key).toMatchObject({ scopes: ['agents:view', 'tools:deploy'], allowed_ips: null });
      const token = await exchangeFrom('10.0.0.1', key).expect(200);
      expect(token.body.scope).toBe('agents:view tools:deploy');
      // A scope of the key, asked for alone, is granted as usual.
      expect((await exchangeFrom('10.0.0.1', key, 'tools:deploy').expect(200)).body.scope).toBe('tools:deploy');
      // The key reads back as created, alone and in the lists.
      expect((await get(`/v1/keys/${key.keyId}`).expect(200)).body).toMatchObject({ scopes: ['agents:view', 'tools:deploy'], allowed_ips: null });
      const listed = (await get(`/v1/apps/${app.id}/keys`).expect(200)).body.data as { id: string; scopes: unknown }[];
      expect(listed.find((k) => k.id === key.keyId)?.scopes).toEqual(['agents:view', 'tools:deploy']);
    });

    it('gives a key without scopes of its own everything its app grants, as before', async () => {
      const app = await newApp({ scopes: ['agents:edit', 'tools:deploy'] });
      const key = await newKey(app.id);
      expect(key.key).toMatchObject({ scopes: null, allowed_ips: null });
      expect((await exchangeFrom('10.0.0.1', key).expect(200)).body.scope).toBe('agents:edit agents:view tools:deploy');
    });

    it('narrows every key at once when the app is re-scoped, and never widens a key beyond its own scopes', async () => {
      const app = await newApp({ scopes: ['agents:edit', 'tools:deploy'] });
      const scoped = await newKey(app.id, { scopes: ['agents:edit', 'tools:deploy'] });
      const plain = await newKey(app.id);
      await patch(`/v1/apps/${app.id}`, { scopes: ['agents:view', 'runtime:run'] }).expect(200);
      expect((await exchangeFrom('10.0.0.1', scoped).expect(200)).body.scope).toBe('agents:view');
      expect((await exchangeFrom('10.0.0.1', plain).expect(200)).body.scope).toBe('agents:view runtime:run sessions:create');
    });

    it('records the key’s scopes and allowed IPs in key.created', async () => {
      const app = await newApp({ scopes: ['tools:deploy', 'agents:view'], allowed_ips: ['10.0.0.0/8'] });
      const key = await newKey(app.id, { scopes: ['tools:deploy'], allowed_ips: ['10.1.0.0/16'] });
      const [event] = await auditEvents(ctx, admin.orgId, { action: 'key.created', target_id: key.keyId });
      expect(event?.details).toMatchObject({ app_id: app.id, name: 'worker', scopes: ['tools:deploy'], allowed_ips: ['10.1.0.0/16'] });
      const plain = await newKey(app.id);
      const [plainEvent] = await auditEvents(ctx, admin.orgId, { action: 'key.created', target_id: plain.keyId });
      expect(plainEvent?.details).not.toHaveProperty('scopes');
      expect(plainEvent?.details).not.toHaveProperty('allowed_ips');
    });

    it('creates and changes an app’s allowed IPs, stored normalized, and audits the change', async () => {
      const app = await newApp({ scopes: ['tools:deploy'], allowed_ips: ['10.1.2.3/8', '2001:DB8:0:0::/32', '::ffff:192.0.2.7', '198.51.100.4/32', '10.0.0.0/8'] });
      expect(app.allowed_ips).toEqual(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7', '198.51.100.4']);
      expect((await get(`/v1/apps/${app.id}`).expect(200)).body.allowed_ips).toEqual(app.allowed_ips);
      const changed = await patch(`/v1/apps/${app.id}`, { allowed_ips: ['203.0.113.0/24'] }).expect(200);
      expect(changed.body.allowed_ips).toEqual(['203.0.113.0/24']);
      const [event] = await auditEvents(ctx, admin.orgId, { action: 'app.updated', target_id: app.id });
      expect(event?.details).toEqual({ changes: { allowed_ips: { from: app.allowed_ips, to: ['203.0.113.0/24'] } } });
      const cleared = await patch(`/v1/apps/${app.id}`, { allowed_ips: null }).expect(200);
      expect(cleared.body.allowed_ips).toBeNull();
    });

    it('exchanges from an address within an allowed IPv4 range, and from an allowed IPv6 range', async () => {
      const app = await newApp({ scopes: ['tools:deploy'], allowed_ips: ['198.51.100.0/24', '2001:db8:1::/48'] });
      const key = await newKey(app.id);
      await exchangeFrom('198.51.100.77', key).expect(200);
      await exchangeFrom('2001:db8:1:2::99', key).expect(200);
      // The IPv4 client as a dual-stack socket writes it.
      await exchangeFrom('::ffff:198.51.100.78', key).expect(200);
    });

    it('applies both the app’s list and the key’s own', async () => {
      const app = await newApp({ scopes: ['tools:deploy'], allowed_ips: ['198.51.100.0/24', '2001:db8::/32'] });
      const key = await newKey(app.id, { allowed_ips: ['198.51.100.16/28', '2001:db8:5::/48'] });
      expect(key.key.allowed_ips).toEqual(['198.51.100.16/28', '2001:db8:5::/48']);
      await exchangeFrom('198.51.100.17', key).expect(200);
      await exchangeFrom('2001:db8:5::1', key).expect(200);
      // In the app's list, outside the key's.
      await exchangeFrom('198.51.100.1', key).expect(401);
      // The app narrowed since: the key's own list no longer suffices.
      await patch(`/v1/apps/${app.id}`, { allowed_ips: ['2001:db8::/32'] }).expect(200);
      await exchangeFrom('198.51.100.17', key).expect(401);
      await exchangeFrom('2001:db8:5::1', key).expect(200);
    });

    it('lets an app without a list be exchanged from anywhere, and a key narrow it on its own', async () => {
      const app = await newApp({ scopes: ['tools:deploy'] });
      const key = await newKey(app.id, { allowed_ips: ['192.0.2.0/24'] });
      await exchangeFrom('192.0.2.200', key).expect(200);
      await exchangeFrom('203.0.113.1', key).expect(401);
      const open = await newKey(app.id);
      await exchangeFrom('203.0.113.1', open).expect(200);
    });

    it('reads the lists with the key row: a warm exchange with both still costs one query and no write', async () => {
      const counter = new QueryCounter();
      const counted = createApp({ ...ctx.deps, db: ctx.db.withPlugin(counter) });
      const app = await newApp({ scopes: ['agents:edit', 'tools:deploy'], allowed_ips: ['198.51.100.0/24', '2001:db8::/32'] });
      const key = await newKey(app.id, { scopes: ['tools:deploy'], allowed_ips: ['198.51.100.0/25'] });
      const exchange = () => request(counted).post('/v1/token').set('X-Forwarded-For', '198.51.100.3').send({ org_id: admin.orgId, key_id: key.keyId, secret: key.secret });
      await exchange().expect(200);
      counter.count = 0;
      expect((await exchange().expect(200)).body.scope).toBe('tools:deploy');
      expect(counter.count).toBe(1);
      // Changed by another instance: seen at the next exchange.
      await ctx.db.updateTable('apps').set({ allowed_ips: '["2001:db8::/32"]' }).where('id', '=', app.id).execute();
      await exchange().expect(401);
    });

    it('rolls a key into one with the same scopes and allowed IPs', async () => {
      const app = await newApp({ scopes: ['agents:edit', 'tools:deploy'], allowed_ips: ['198.51.100.0/24'] });
      const key = await newKey(app.id, { scopes: ['tools:deploy'], allowed_ips: ['198.51.100.0/25'] });
      const rolled = await post(`/v1/keys/${key.keyId}/roll`, { grace_seconds: 0 }).expect(201);
      expect(rolled.body.key).toMatchObject({ scopes: ['tools:deploy'], allowed_ips: ['198.51.100.0/25'] });
      const next = { keyId: rolled.body.key.id as string, secret: rolled.body.secret as string };
      expect((await exchangeFrom('198.51.100.9', next).expect(200)).body.scope).toBe('tools:deploy');
      await exchangeFrom('198.51.100.200', next).expect(401);
      const [event] = await auditEvents(ctx, admin.orgId, { action: 'key.created', target_id: next.keyId });
      expect(event?.details).toMatchObject({ rolled_from: key.keyId, scopes: ['tools:deploy'], allowed_ips: ['198.51.100.0/25'] });
    });
  });
});
