// What per-key scopes and IP allow-lists must hold against a caller: an address outside the
// lists learns nothing (the same 401 as an unknown key, paced alike, with its own audit
// reason), even with the right secret and a verified cache; the address is the one the
// throttle uses (X-Forwarded-For only behind a trusted proxy); a key never mints what its app
// no longer grants; and no admin sets a key's policy on another org's app.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { SecretHasher } from '../../src/domain/hashing.js';
import { auditEvents, orgSnapshot } from '../helpers/admin.js';
import { runCommonAuthTests } from '../helpers/common-auth.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

function countingHasher(inner: SecretHasher) {
  const counts = { verify: 0 };
  const hasher: SecretHasher = {
    hash: (s) => inner.hash(s),
    verify: (h, s) => {
      counts.verify++;
      return inner.verify(h, s);
    },
  };
  return { hasher, counts };
}

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'client authentication failed' };

describe.each(DIALECTS)('per-key scopes and IP allow-lists, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_TRUST_PROXY: 'true' } });
    });
    afterAll(async () => ctx?.close());
    const getCtx = () => ctx;

    const bodyOf = (c: { orgId: string; keyId: string; secret: string }, scope?: string) => ({
      org_id: c.orgId,
      key_id: c.keyId,
      secret: c.secret,
      ...(scope === undefined ? {} : { scope }),
    });
    const from = (app: ReturnType<typeof createApp>, ip: string, body: object) => request(app).post('/v1/token').set('X-Forwarded-For', ip).send(body);
    const refusals = async (orgId: string, keyId: string, c = ctx) =>
      (await auditEvents(c, orgId, { action: 'token.refused', target_id: keyId })).map((e) => e.details['reason']);

    describe('POST /v1/apps/{app_id}/keys with scopes and allowed_ips', () =>
      runCommonAuthTests(getCtx, {
        method: 'post',
        path: async (c, orgId) => `/v1/apps/${(await c.createApp(orgId, ['tools:deploy'], { allowed_ips: ['10.0.0.0/8'] })).id}/keys`,
        body: { name: 'k', scopes: ['tools:deploy'], allowed_ips: ['10.1.0.0/16'] },
        scope: 'admin.apps:edit',
        otherOrg: 404,
      }));

    it('refuses an exchange from another address with the unknown key’s 401, its own audit reason, and no argon2', async () => {
      const client = await ctx.createClient(['tools:deploy'], { app: { allowed_ips: ['198.51.100.0/24'] } });
      const { hasher, counts } = countingHasher(ctx.deps.hasher);
      const app = createApp({ ...ctx.deps, hasher });
      const outside = await from(app, '203.0.113.5', bodyOf(client)).expect(401);
      const unknown = await from(app, '203.0.113.5', bodyOf({ ...client, keyId: 'key_01JA0000000000000000000000' })).expect(401);
      expect(outside.body).toEqual(INVALID_CLIENT);
      expect(outside.body).toEqual(unknown.body);
      expect(outside.headers['www-authenticate']).toBe(unknown.headers['www-authenticate']);
      expect(Object.keys(outside.headers).sort()).toEqual(Object.keys(unknown.headers).sort());
      expect(counts.verify).toBe(0);
      expect(await refusals(client.orgId, client.keyId)).toEqual(['ip_not_allowed']);
      const [event] = await auditEvents(ctx, client.orgId, { action: 'token.refused', target_id: client.keyId });
      expect(event).toMatchObject({ actor: 'anonymous', ip: '203.0.113.5', details: { reason: 'ip_not_allowed', count: 1 } });
      // From inside the list the same secret works, so it was the address alone.
      await from(app, '198.51.100.5', bodyOf(client)).expect(200);
      expect(counts.verify).toBe(1);
    });

    it('refuses another address even when the secret is already verified (a warm cache)', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await from(ctx.app, '203.0.113.9', bodyOf(client)).expect(200);
      await ctx.db.updateTable('apps').set({ allowed_ips: '["198.51.100.0/24"]' }).where('id', '=', client.appId).execute();
      const res = await from(ctx.app, '203.0.113.9', bodyOf(client)).expect(401);
      expect(res.body).toEqual(INVALID_CLIENT);
      expect(await refusals(client.orgId, client.keyId)).toEqual(['ip_not_allowed']);
    });

    it('counts refused addresses for the throttle, as an unknown key', async () => {
      const throttled = await createTestContext({
        dialect: dialectCase.dialect,
        env: { SCOPE_AUTH_TRUST_PROXY: 'true', SCOPE_AUTH_THROTTLE_KEY_FAILURES: '3', SCOPE_AUTH_THROTTLE_IP_FAILURES: '100' },
      });
      try {
        const client = await throttled.createClient(['tools:deploy'], { app: { allowed_ips: ['198.51.100.0/24'] } });
        for (let i = 0; i < 3; i++) await from(throttled.app, '203.0.113.7', bodyOf(client)).expect(401);
        await from(throttled.app, '203.0.113.7', bodyOf(client)).expect(429);
        // The key's owner, from an allowed address, is not locked out.
        await from(throttled.app, '198.51.100.7', bodyOf(client)).expect(200);
      } finally {
        await throttled.close();
      }
    });

    it('matches the address X-Forwarded-For names only behind a trusted proxy', async () => {
      const direct = await createTestContext({ dialect: dialectCase.dialect });
      try {
        // Without SCOPE_AUTH_TRUST_PROXY the header is the client's word: the socket's address counts.
        const inside = await direct.createClient(['tools:deploy'], { app: { allowed_ips: ['198.51.100.0/24'] } });
        await from(direct.app, '198.51.100.1', bodyOf(inside)).expect(401);
        const loopback = await direct.createClient(['tools:deploy'], { app: { allowed_ips: ['127.0.0.0/8', '::1'] } });
        await from(direct.app, '198.51.100.1', bodyOf(loopback)).expect(200);
        expect(await refusals(inside.orgId, inside.keyId, direct)).toEqual(['ip_not_allowed']);
      } finally {
        await direct.close();
      }
    });

    it('never mints a scope the app dropped, though the key was created with it', async () => {
      const admin = await ctx.tokenFor(['admin.apps:full']);
      const auth = (r: request.Test) => r.set('Authorization', `Bearer ${admin.token}`);
      const appId = (await auth(request(ctx.app).post('/v1/apps')).send({ name: 'svc', scopes: ['agents:edit', 'tools:deploy'] }).expect(201)).body.id;
      const created = await auth(request(ctx.app).post(`/v1/apps/${appId}/keys`)).send({ name: 'k', scopes: ['agents:edit', 'tools:deploy'] }).expect(201);
      const key = { orgId: admin.orgId, keyId: created.body.key.id, secret: created.body.secret };
      await auth(request(ctx.app).patch(`/v1/apps/${appId}`)).send({ scopes: ['agents:edit'] }).expect(200);
      const res = await from(ctx.app, '10.0.0.1', bodyOf(key, 'tools:deploy')).expect(400);
      expect(res.body).toMatchObject({ error: 'invalid_scope' });
      expect((await from(ctx.app, '10.0.0.1', bodyOf(key)).expect(200)).body.scope).toBe('agents:edit agents:view');
      // Nor one the app holds and the key does not: its scopes are fixed when it is created.
      await auth(request(ctx.app).patch(`/v1/apps/${appId}`)).send({ scopes: ['agents:edit', 'runtime:run'] }).expect(200);
      const wider = await from(ctx.app, '10.0.0.1', bodyOf(key, 'runtime:run')).expect(400);
      expect(wider.body).toMatchObject({ error: 'invalid_scope' });
      const [event] = await auditEvents(ctx, admin.orgId, { action: 'token.refused', target_id: key.keyId });
      expect(event?.details).toMatchObject({ reason: 'scope_not_granted', scopes: ['runtime:run'], outside_key: ['runtime:run'] });
    });

    it('lets no admin create a key on another org’s app, whatever its policy', async () => {
      const { org } = await ctx.createOrg('victim');
      const victimApp = await ctx.createApp(org.id, ['tools:deploy']);
      const attacker = await ctx.tokenFor(['admin.apps:full']);
      const before = await orgSnapshot(ctx, org.id);
      const res = await request(ctx.app)
        .post(`/v1/apps/${victimApp.id}/keys`)
        .set('Authorization', `Bearer ${attacker.token}`)
        .send({ name: 'k', scopes: ['tools:deploy'], allowed_ips: ['0.0.0.0/0'] })
        .expect(404);
      expect(res.body.code).toBe('not_found');
      await request(ctx.app).patch(`/v1/apps/${victimApp.id}`).set('Authorization', `Bearer ${attacker.token}`).send({ allowed_ips: ['0.0.0.0/0'] }).expect(404);
      expect(await orgSnapshot(ctx, org.id)).toEqual(before);
    });

    it('does not let a key of a stronger app be issued by narrowing its scopes', async () => {
      const caller = await ctx.tokenFor(['admin.apps:edit']);
      const strong = await ctx.createApp(caller.orgId, ['admin.apps:full', 'tools:deploy']);
      const res = await request(ctx.app)
        .post(`/v1/apps/${strong.id}/keys`)
        .set('Authorization', `Bearer ${caller.token}`)
        .send({ name: 'k', scopes: ['tools:deploy'] })
        .expect(403);
      expect(res.body.code).toBe('exceeds_caller_scope');
    });
  });
});
