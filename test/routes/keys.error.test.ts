import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { orgSnapshot } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

const DAY = 86_400_000;

async function expectInvalid(res: request.Test, ...mentions: string[]) {
  const r = await res;
  expect(r.status).toBe(400);
  expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(r.body).toMatchObject({ status: 400, code: 'invalid_request' });
  for (const m of mentions) expect(r.body.detail).toContain(m);
  return r;
}

describe.each(DIALECTS)('/v1/keys, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      admin = await ctx.tokenFor(['admin.apps:full']);
    });
    beforeEach(async () => {
      admin.token = await ctx.tokenOf(admin);
    });
    afterAll(async () => ctx?.close());

    const bearer = (req: request.Test) => req.set('Authorization', `Bearer ${admin.token}`);
    const post = (path: string, body: unknown) => bearer(request(ctx.app).post(path)).send(body as object);
    const iso = (ms: number) => new Date(ms).toISOString();

    it('requires a key name of 1 to 100 characters and nothing unknown', async () => {
      await expectInvalid(post(`/v1/apps/${admin.appId}/keys`, {}), 'name');
      await expectInvalid(post(`/v1/apps/${admin.appId}/keys`, { name: '' }), 'name');
      await expectInvalid(post(`/v1/apps/${admin.appId}/keys`, { name: 'k'.repeat(101) }), 'name');
      await expectInvalid(post(`/v1/apps/${admin.appId}/keys`, { name: 'k', secret: 'secret_mine' }), 'secret');
    });

    it('requires expires_at to be an ISO 8601 time in the future', async () => {
      const before = await orgSnapshot(ctx, admin.orgId);
      await expectInvalid(post(`/v1/apps/${admin.appId}/keys`, { name: 'k', expires_at: iso(ctx.clock.now()) }), 'expires_at', 'future');
      await expectInvalid(post(`/v1/apps/${admin.appId}/keys`, { name: 'k', expires_at: iso(ctx.clock.now() - DAY) }), 'expires_at', 'future');
      await expectInvalid(post(`/v1/apps/${admin.appId}/keys`, { name: 'k', expires_at: 'tomorrow' }), 'expires_at', 'ISO 8601');
      await expectInvalid(post(`/v1/apps/${admin.appId}/keys`, { name: 'k', expires_at: '2030-01-01' }), 'expires_at');
      await expectInvalid(post(`/v1/apps/${admin.appId}/keys`, { name: 'k', expires_at: ctx.clock.now() + DAY }), 'expires_at');
      expect(await orgSnapshot(ctx, admin.orgId)).toEqual(before);
    });

    it('requires grace_seconds from 0 to 30 days to roll', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const roll = (body: unknown) => post(`/v1/keys/${client.keyId}/roll`, body);
      await expectInvalid(roll({}), 'grace_seconds');
      await expectInvalid(roll({ grace_seconds: -1 }), 'grace_seconds');
      await expectInvalid(roll({ grace_seconds: 30 * 86_400 + 1 }), 'grace_seconds', '30 days');
      await expectInvalid(roll({ grace_seconds: 1.5 }), 'grace_seconds');
      await expectInvalid(roll({ grace_seconds: '60' }), 'grace_seconds');
      await expectInvalid(roll({ grace_seconds: 60, name: 'renamed' }), 'name');
      await roll({ grace_seconds: 30 * 86_400 }).expect(201);
    });

    it('refuses to roll a revoked key with 409', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await post(`/v1/keys/${client.keyId}/revoke`, {}).expect(200);
      const before = await orgSnapshot(ctx, admin.orgId);
      const res = await post(`/v1/keys/${client.keyId}/roll`, { grace_seconds: 60 }).expect(409);
      expect(res.body).toMatchObject({ code: 'conflict', detail: expect.stringContaining('revoked') });
      expect(await orgSnapshot(ctx, admin.orgId)).toEqual(before);
    });

    it('limits a revocation reason to 500 characters', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await expectInvalid(post(`/v1/keys/${client.keyId}/revoke`, { reason: 'r'.repeat(501) }), 'reason', '500');
      await expectInvalid(post(`/v1/keys/${client.keyId}/revoke`, { reason: 42 }), 'reason');
      await expectInvalid(post(`/v1/keys/${client.keyId}/revoke`, { why: 'x' }), 'why');
      await ctx.exchange(client).expect(200);
      await post(`/v1/keys/${client.keyId}/revoke`, { reason: 'r'.repeat(500) }).expect(200);
    });

    it('answers 400 for an id that is not a key id and 404 for a key that does not exist', async () => {
      await expectInvalid(bearer(request(ctx.app).get('/v1/keys/nope')), 'key_id');
      await expectInvalid(bearer(request(ctx.app).get(`/v1/keys/${admin.appId}`)), 'key_id');
      const missing = 'key_01J00000000000000000000000';
      const res = await bearer(request(ctx.app).get(`/v1/keys/${missing}`)).expect(404);
      expect(res.body).toMatchObject({ code: 'not_found', detail: `no key ${missing} in this organization` });
      await post(`/v1/keys/${missing}/revoke`, {}).expect(404);
      await post(`/v1/keys/${missing}/roll`, { grace_seconds: 0 }).expect(404);
      await bearer(request(ctx.app).delete(`/v1/keys/${missing}`)).expect(404);
    });

    it('validates list filters', async () => {
      const list = (query: string) => bearer(request(ctx.app).get(`/v1/keys?${query}`));
      await expectInvalid(list('status=bogus'), 'status');
      await expectInvalid(list('unused_days=0'), 'unused_days');
      await expectInvalid(list('unused_days=abc'), 'unused_days');
      await expectInvalid(list('app_id=nope'), 'app_id');
      await expectInvalid(list('limit=201'), 'limit');
      await expectInvalid(list('owner=me'), 'owner');
      await list('app_id=app_01J00000000000000000000000').expect(404);
      await expectInvalid(bearer(request(ctx.app).get(`/v1/apps/${admin.appId}/keys?app_id=${admin.appId}`)), 'app_id');
    });
  });

  describe.skipIf(dialectCase.skip !== null)(`${dialectTitle(dialectCase)} with SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS=30`, () => {
    let ctx: TestContext;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS: '30' } });
      admin = await ctx.tokenFor(['admin.apps:full']);
    });
    afterAll(async () => ctx?.close());
    const post = (path: string, body: object) => request(ctx.app).post(path).set('Authorization', `Bearer ${admin.token}`).send(body);
    const iso = (ms: number) => new Date(ms).toISOString();

    it('defaults a new key’s expiry to the maximum lifetime', async () => {
      const res = await post(`/v1/apps/${admin.appId}/keys`, { name: 'k' }).expect(201);
      expect(res.body.key.expires_at).toBe(iso(ctx.clock.now() + 30 * DAY));
    });

    it('accepts an expiry within the maximum and refuses one beyond it or none at all', async () => {
      await post(`/v1/apps/${admin.appId}/keys`, { name: 'k', expires_at: iso(ctx.clock.now() + 30 * DAY) }).expect(201);
      await expectInvalid(post(`/v1/apps/${admin.appId}/keys`, { name: 'k', expires_at: iso(ctx.clock.now() + 30 * DAY + 1000) }), '30 days', 'SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS');
      await expectInvalid(post(`/v1/apps/${admin.appId}/keys`, { name: 'k', expires_at: null }), 'expires_at', '30 days');
    });

    it('gives a rolled key the maximum lifetime too', async () => {
      const created = await post(`/v1/apps/${admin.appId}/keys`, { name: 'k' }).expect(201);
      const rolled = await post(`/v1/keys/${created.body.key.id}/roll`, { grace_seconds: 60 }).expect(201);
      expect(rolled.body.key.expires_at).toBe(iso(ctx.clock.now() + 30 * DAY));
    });
  });
});
