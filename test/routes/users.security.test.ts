import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSnapshot } from '../helpers/admin.js';
import { runCommonAuthTests } from '../helpers/common-auth.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, session } from '../helpers/people.js';

describe.each(DIALECTS)('/v1/users, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());
    const getCtx = () => ctx;
    const personIn = async (c: TestContext, orgId: string) => (await createPerson(c, { orgId, role: 'viewer' })).userId;
    const scope = 'admin.users:full';

    describe('GET /v1/users', () => runCommonAuthTests(getCtx, { method: 'get', path: () => '/v1/users', scope }));
    describe('POST /v1/users', () => runCommonAuthTests(getCtx, { method: 'post', path: () => '/v1/users', body: { email: 'someone@example.com', role: 'viewer' }, scope }));
    describe('GET /v1/users/{id}', () => runCommonAuthTests(getCtx, { method: 'get', path: async (c, o) => `/v1/users/${await personIn(c, o)}`, scope, otherOrg: 404 }));
    describe('PATCH /v1/users/{id}', () =>
      runCommonAuthTests(getCtx, { method: 'patch', path: async (c, o) => `/v1/users/${await personIn(c, o)}`, body: { role: 'editor' }, scope, otherOrg: 404 }));
    describe('DELETE /v1/users/{id}', () => runCommonAuthTests(getCtx, { method: 'delete', path: async (c, o) => `/v1/users/${await personIn(c, o)}`, scope, otherOrg: 404 }));
    describe('POST /v1/users/{id}/password-reset', () =>
      runCommonAuthTests(getCtx, { method: 'post', path: async (c, o) => `/v1/users/${await personIn(c, o)}/password-reset`, scope, otherOrg: 404 }));
    describe('GET /v1/users/{id}/sessions', () =>
      runCommonAuthTests(getCtx, { method: 'get', path: async (c, o) => `/v1/users/${await personIn(c, o)}/sessions`, scope, otherOrg: 404 }));
    describe('DELETE /v1/users/{id}/sessions', () =>
      runCommonAuthTests(getCtx, { method: 'delete', path: async (c, o) => `/v1/users/${await personIn(c, o)}/sessions`, scope, otherOrg: 404 }));

    it('refuses a key holding admin.users:full but not the apps’ full power inviting or promoting an owner, or touching one', async () => {
      const caller = await ctx.tokenFor(['admin.users:full', 'admin.apps:view', 'admin.audit:view', 'admin.webhooks:view']);
      const bearer = (r: request.Test) => r.set('Authorization', `Bearer ${caller.token}`);
      const owner = await createPerson(ctx);
      const viewer = await createPerson(ctx, { role: 'viewer' });
      const before = await orgSnapshot(ctx, ctx.root.org.id);
      const attempts = [
        bearer(request(ctx.app).post('/v1/users')).send({ email: 'escalate@example.com', role: 'owner' }),
        bearer(request(ctx.app).patch(`/v1/users/${viewer.userId}`)).send({ role: 'editor' }),
        bearer(request(ctx.app).patch(`/v1/users/${owner.userId}`)).send({ status: 'disabled' }),
        bearer(request(ctx.app).delete(`/v1/users/${owner.userId}`)),
        bearer(request(ctx.app).post(`/v1/users/${owner.userId}/password-reset`)),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('exceeds_caller_scope');
      }
      expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
      // Within its power it works: a viewer (whose scopes it holds) is renamed.
      await bearer(request(ctx.app).patch(`/v1/users/${viewer.userId}`)).send({ name: 'Val Viewer' }).expect(200);
    });

    it('lets an owner of a tenant manage owners there, and never the root org’s owners (admin.orgs:full)', async () => {
      const tenant = await ctx.createOrg('tenant');
      const tenantOwner = await createPerson(ctx, { orgId: tenant.org.id });
      await session(ctx.app, tenantOwner).post('/v1/users', { email: 'co-owner@example.com', role: 'owner' }).expect(201);
      const rootOwner = await createPerson(ctx);
      await session(ctx.app, tenantOwner).get(`/v1/users/${rootOwner.userId}`).expect(404);
    });

    it('keeps the last owner when two owners demote each other at once', async () => {
      const tenant = await ctx.createOrg('duel');
      const a = await createPerson(ctx, { orgId: tenant.org.id });
      const b = await createPerson(ctx, { orgId: tenant.org.id });
      const [ra, rb] = await Promise.all([
        session(ctx.app, a).patch(`/v1/users/${b.userId}`, { role: 'viewer' }),
        session(ctx.app, b).patch(`/v1/users/${a.userId}`, { role: 'viewer' }),
      ]);
      const statuses = [ra.status, rb.status].sort();
      // One demotion wins; the other is refused as the last owner's, or after its caller lost the power (401: its session ended).
      expect(statuses[0]).toBe(200);
      expect([401, 409]).toContain(statuses[1]);
      const owners = await ctx.db.selectFrom('users').select('id').where('org_id', '=', tenant.org.id).where('role', '=', 'owner').execute();
      expect(owners).toHaveLength(1);
    });

    it('never answers with a password hash, a link token or a session', async () => {
      const owner = await createPerson(ctx);
      const listed = await session(ctx.app, owner).get('/v1/users?limit=200').expect(200);
      const text = JSON.stringify(listed.body);
      expect(text).not.toMatch(/\$argon2|password|token|totp/);
      expect(text).not.toContain(owner.cookie.split('=')[1]!);
    });
  });
});
