import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSnapshot } from '../helpers/admin.js';
import { runCommonAuthTests } from '../helpers/common-auth.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('/v1/keys, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());
    const getCtx = () => ctx;
    const keyIn = async (c: TestContext, orgId: string) => (await c.createClient(['tools:deploy'], { orgId })).keyId;

    describe('GET /v1/keys', () => runCommonAuthTests(getCtx, { method: 'get', path: () => '/v1/keys', scope: 'admin.apps:view' }));
    describe('GET /v1/keys/{key_id}', () =>
      runCommonAuthTests(getCtx, { method: 'get', path: async (c, o) => `/v1/keys/${await keyIn(c, o)}`, scope: 'admin.apps:view', otherOrg: 404 }));
    describe('POST /v1/keys/{key_id}/revoke', () =>
      runCommonAuthTests(getCtx, {
        method: 'post',
        path: async (c, o) => `/v1/keys/${await keyIn(c, o)}/revoke`,
        body: { reason: 'x' },
        scope: 'admin.apps:edit',
        otherOrg: 404,
      }));
    describe('POST /v1/keys/{key_id}/roll', () =>
      runCommonAuthTests(getCtx, {
        method: 'post',
        path: async (c, o) => `/v1/keys/${await keyIn(c, o)}/roll`,
        body: { grace_seconds: 0 },
        scope: 'admin.apps:edit',
        otherOrg: 404,
      }));
    describe('DELETE /v1/keys/{key_id}', () =>
      runCommonAuthTests(getCtx, { method: 'delete', path: async (c, o) => `/v1/keys/${await keyIn(c, o)}`, scope: 'admin.apps:edit', otherOrg: 404 }));

    it('refuses to roll a key of an app holding admin scopes the caller lacks', async () => {
      const caller = await ctx.tokenFor(['admin.apps:edit']);
      const before = await orgSnapshot(ctx, caller.orgId);
      const res = await request(ctx.app)
        .post(`/v1/keys/${ctx.root.key.id}/roll`)
        .set('Authorization', `Bearer ${caller.token}`)
        .send({ grace_seconds: 0 })
        .expect(403);
      expect(res.body.code).toBe('exceeds_caller_scope');
      expect(await orgSnapshot(ctx, caller.orgId)).toEqual(before);
    });

    it('refuses a key holding only admin.apps:edit revoking, rolling or deleting the root admin key, and changes nothing', async () => {
      const caller = await ctx.tokenFor(['admin.apps:edit']);
      const bearer = (r: request.Test) => r.set('Authorization', `Bearer ${caller.token}`);
      const before = await orgSnapshot(ctx, ctx.root.org.id);
      const attempts = [
        bearer(request(ctx.app).post(`/v1/keys/${ctx.root.key.id}/revoke`)).send({ reason: 'takeover' }),
        bearer(request(ctx.app).post(`/v1/keys/${ctx.root.key.id}/roll`)).send({ grace_seconds: 0 }),
        bearer(request(ctx.app).delete(`/v1/keys/${ctx.root.key.id}`)),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(res.status).toBe(403);
        expect(res.body).toMatchObject({ code: 'exceeds_caller_scope', missing_scopes: ['admin.apps:full', 'admin.audit:view', 'admin.orgs:full', 'admin.users:full', 'admin.webhooks:full', 'admin.webhooks:view', 'tokens:introspect'] });
      }
      expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
      await ctx.exchange(ctx.rootCredentials).expect(200);
    });

    it('lets an edit-only admin revoke, roll and delete keys of apps within its scopes', async () => {
      const caller = await ctx.tokenFor(['admin.apps:edit']);
      const bearer = (r: request.Test) => r.set('Authorization', `Bearer ${caller.token}`);
      const worker = await ctx.createApp(caller.orgId, ['tools:deploy', 'admin.apps:view']);
      const [first, second] = [await ctx.createKey(caller.orgId, worker.id), await ctx.createKey(caller.orgId, worker.id)];
      await bearer(request(ctx.app).post(`/v1/keys/${first.key.id}/revoke`)).send({}).expect(200);
      const rolled = await bearer(request(ctx.app).post(`/v1/keys/${second.key.id}/roll`)).send({ grace_seconds: 0 }).expect(201);
      await bearer(request(ctx.app).delete(`/v1/keys/${rolled.body.key.id}`)).expect(204);
    });

    it('never returns a secret or a hash except the one secret of a creation', async () => {
      const caller = await ctx.tokenFor(['admin.apps:full', 'admin.audit:view']);
      const bearer = (r: request.Test) => r.set('Authorization', `Bearer ${caller.token}`);
      const created = await bearer(request(ctx.app).post(`/v1/apps/${caller.appId}/keys`)).send({ name: 'k' }).expect(201);
      const rolled = await bearer(request(ctx.app).post(`/v1/keys/${created.body.key.id}/roll`)).send({ grace_seconds: 60 }).expect(201);
      const revoked = await bearer(request(ctx.app).post(`/v1/keys/${created.body.key.id}/revoke`)).send({}).expect(200);
      const bodies = [
        revoked.text,
        (await bearer(request(ctx.app).get('/v1/keys?limit=200')).expect(200)).text,
        (await bearer(request(ctx.app).get(`/v1/apps/${caller.appId}/keys`)).expect(200)).text,
        (await bearer(request(ctx.app).get(`/v1/keys/${rolled.body.key.id}`)).expect(200)).text,
        (await bearer(request(ctx.app).get('/v1/audit?limit=200')).expect(200)).text,
      ];
      const hashes = (await ctx.db.selectFrom('api_keys').select('secret_hash').execute()).map((r) => r.secret_hash);
      for (const body of bodies) {
        expect(body).not.toMatch(/secret_[0-9A-Za-z]{46}/);
        expect(body).not.toContain('$argon2');
        for (const hash of hashes) expect(body).not.toContain(hash);
      }
      // The creation responses hold exactly one secret each: their own.
      expect(created.text.match(/secret_[0-9A-Za-z]{46}/g)).toEqual([created.body.secret]);
      expect(rolled.text.match(/secret_[0-9A-Za-z]{46}/g)).toEqual([rolled.body.secret]);
    });

    it('lets a key revoke itself; its token stops working at once', async () => {
      const caller = await ctx.tokenFor(['admin.apps:edit']);
      await request(ctx.app).post(`/v1/keys/${caller.keyId}/revoke`).set('Authorization', `Bearer ${caller.token}`).send({}).expect(200);
      await request(ctx.app).get('/v1/keys').set('Authorization', `Bearer ${caller.token}`).expect(401);
    });
  });
});
