import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSnapshot } from '../helpers/admin.js';
import { runCommonAuthTests } from '../helpers/common-auth.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('/v1/apps, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());
    const getCtx = () => ctx;
    const appIn = async (c: TestContext, orgId: string) => (await c.createClient(['tools:deploy'], { orgId })).appId;

    describe('GET /v1/apps', () => runCommonAuthTests(getCtx, { method: 'get', path: () => '/v1/apps', scope: 'admin.apps:view' }));
    describe('POST /v1/apps', () =>
      runCommonAuthTests(getCtx, { method: 'post', path: () => '/v1/apps', body: { name: 'x', scopes: [] }, scope: 'admin.apps:full' }));
    describe('GET /v1/apps/{app_id}', () =>
      runCommonAuthTests(getCtx, { method: 'get', path: async (c, o) => `/v1/apps/${await appIn(c, o)}`, scope: 'admin.apps:view', otherOrg: 404 }));
    describe('PATCH /v1/apps/{app_id}', () =>
      runCommonAuthTests(getCtx, {
        method: 'patch',
        path: async (c, o) => `/v1/apps/${await appIn(c, o)}`,
        body: { name: 'hijacked' },
        scope: 'admin.apps:edit',
        otherOrg: 404,
      }));
    describe('DELETE /v1/apps/{app_id}', () =>
      runCommonAuthTests(getCtx, { method: 'delete', path: async (c, o) => `/v1/apps/${await appIn(c, o)}`, scope: 'admin.apps:full', otherOrg: 404 }));
    describe('GET /v1/apps/{app_id}/keys', () =>
      runCommonAuthTests(getCtx, { method: 'get', path: async (c, o) => `/v1/apps/${await appIn(c, o)}/keys`, scope: 'admin.apps:view', otherOrg: 404 }));
    describe('POST /v1/apps/{app_id}/keys', () =>
      runCommonAuthTests(getCtx, {
        method: 'post',
        path: async (c, o) => `/v1/apps/${await appIn(c, o)}/keys`,
        body: { name: 'stolen' },
        scope: 'admin.apps:edit',
        otherOrg: 404,
      }));

    describe('least privilege among admins', () => {
      const ROOT_ADMIN_SCOPES = ['admin.apps:full', 'admin.audit:view', 'admin.orgs:full', 'admin.users:full', 'admin.webhooks:full', 'admin.webhooks:view', 'tokens:introspect'];
      const patch = (token: string, appId: string, body: object) =>
        request(ctx.app).patch(`/v1/apps/${appId}`).set('Authorization', `Bearer ${token}`).send(body);

      it('refuses a key holding only admin.apps:edit re-scoping, renaming or editing the root admin app, and changes nothing', async () => {
        const caller = await ctx.tokenFor(['admin.apps:edit']);
        const before = await orgSnapshot(ctx, ctx.root.org.id);
        for (const body of [
          { scopes: ['admin.apps:view'] },
          { scopes: [] },
          { name: 'not admin any more' },
          { description: 'mine now' },
          { audience: 'https://elsewhere.example' },
          { token_ttl_seconds: 60 },
        ]) {
          const res = await patch(caller.token, ctx.root.adminApp.id, body).expect(403);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(res.body).toMatchObject({ status: 403, code: 'exceeds_caller_scope', type: 'urn:scope-auth:problem:exceeds_caller_scope' });
          // Named: every admin scope of the app that the caller lacks (edit and view it holds).
          expect(res.body.missing_scopes).toEqual(ROOT_ADMIN_SCOPES);
          expect(res.body.detail).toContain('admin.orgs:full');
        }
        expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
        await ctx.exchange(ctx.rootCredentials).expect(200);
      });

      it('refuses to delete an app holding admin scopes the caller lacks', async () => {
        const caller = await ctx.tokenFor(['admin.apps:full']);
        const auditor = await ctx.createApp(caller.orgId, ['admin.audit:view']);
        const res = await request(ctx.app).delete(`/v1/apps/${auditor.id}`).set('Authorization', `Bearer ${caller.token}`).expect(403);
        expect(res.body).toMatchObject({ code: 'exceeds_caller_scope', missing_scopes: ['admin.audit:view'] });
        await request(ctx.app).get(`/v1/apps/${auditor.id}`).set('Authorization', `Bearer ${caller.token}`).expect(200);
      });

      it('lets an edit-only admin manage apps within its own scopes', async () => {
        const caller = await ctx.tokenFor(['admin.apps:edit']);
        const worker = await ctx.createApp(caller.orgId, ['tools:deploy', 'admin.apps:view']);
        expect((await patch(caller.token, worker.id, { name: 'renamed' }).expect(200)).body.name).toBe('renamed');
        // Scopes that are not power over this server are not the caller's to hold.
        const rescoped = await patch(caller.token, worker.id, { scopes: ['runtime:run', 'admin.apps:edit'] }).expect(200);
        expect(rescoped.body.effective_scopes).toEqual(['admin.apps:edit', 'admin.apps:view', 'runtime:run', 'sessions:create']);
        await request(ctx.app).post(`/v1/apps/${worker.id}/keys`).set('Authorization', `Bearer ${caller.token}`).send({ name: 'k' }).expect(201);
      });

      it('lets an admin holding every admin scope of an app edit and delete it', async () => {
        const caller = await ctx.tokenFor(['admin.apps:full', 'admin.audit:view']);
        const auditor = await ctx.createApp(caller.orgId, ['admin.audit:view', 'agents:view']);
        await patch(caller.token, auditor.id, { scopes: ['admin.audit:view', 'admin.apps:view'] }).expect(200);
        await request(ctx.app).delete(`/v1/apps/${auditor.id}`).set('Authorization', `Bearer ${caller.token}`).expect(204);
      });
    });

    describe('privilege escalation', () => {
      const post = (token: string, body: object) => request(ctx.app).post('/v1/apps').set('Authorization', `Bearer ${token}`).send(body);

      it('refuses to grant an admin scope the caller does not hold, naming it, and creates nothing', async () => {
        const caller = await ctx.tokenFor(['admin.apps:full']);
        const before = await orgSnapshot(ctx, caller.orgId);
        const res = await post(caller.token, { name: 'escalate', scopes: ['admin.audit:view', 'tools:deploy'] }).expect(403);
        expect(res.body).toMatchObject({ status: 403, code: 'exceeds_caller_scope', missing_scopes: ['admin.audit:view'] });
        expect(res.body.detail).toContain('admin.audit:view');
        expect(await orgSnapshot(ctx, caller.orgId)).toEqual(before);
      });

      it('refuses tokens:introspect to a caller without it', async () => {
        const caller = await ctx.tokenFor(['admin.apps:full']);
        await post(caller.token, { name: 'introspector', scopes: ['tokens:introspect'] }).expect(403);
      });

      it('refuses a scope that implies an admin scope through the catalogue', async () => {
        // admin.apps:full implies admin.apps:edit; a view-and-full-less editor cannot grant either.
        const caller = await ctx.tokenFor(['admin.apps:edit']);
        const app = await ctx.createApp(caller.orgId, ['tools:deploy']);
        const res = await request(ctx.app)
          .patch(`/v1/apps/${app.id}`)
          .set('Authorization', `Bearer ${caller.token}`)
          .send({ scopes: ['admin.apps:full'] })
          .expect(403);
        expect(res.body).toMatchObject({ code: 'exceeds_caller_scope', missing_scopes: ['admin.apps:full'] });
      });

      it('refuses an editor narrowing an app that holds more than the editor does', async () => {
        // Stripping a stronger admin's scopes is acting above one's rights, like revoking its key.
        const caller = await ctx.tokenFor(['admin.apps:edit']);
        const app = await ctx.createApp(caller.orgId, ['admin.apps:full', 'admin.audit:view']);
        const before = await orgSnapshot(ctx, caller.orgId);
        const res = await request(ctx.app)
          .patch(`/v1/apps/${app.id}`)
          .set('Authorization', `Bearer ${caller.token}`)
          .send({ scopes: ['admin.apps:view'] })
          .expect(403);
        expect(res.body).toMatchObject({ code: 'exceeds_caller_scope', missing_scopes: ['admin.apps:full', 'admin.audit:view'] });
        expect(await orgSnapshot(ctx, caller.orgId)).toEqual(before);
      });

      it('refuses to issue a key for an app holding admin scopes the caller lacks', async () => {
        const caller = await ctx.tokenFor(['admin.apps:edit']);
        const before = await orgSnapshot(ctx, caller.orgId);
        const res = await request(ctx.app)
          .post(`/v1/apps/${ctx.root.adminApp.id}/keys`)
          .set('Authorization', `Bearer ${caller.token}`)
          .send({ name: 'backdoor' })
          .expect(403);
        expect(res.body.code).toBe('exceeds_caller_scope');
        expect(res.body.missing_scopes).toEqual(expect.arrayContaining(['admin.orgs:full', 'admin.audit:view']));
        expect(await orgSnapshot(ctx, caller.orgId)).toEqual(before);
      });

      it('grants admin.orgs:full inside the root org to a caller holding it', async () => {
        const res = await post(await ctx.tokenOf(ctx.rootCredentials), { name: 'org admin', scopes: ['admin.orgs:full'] }).expect(201);
        expect(res.body.scopes).toEqual(['admin.orgs:full']);
      });

      it('never grants admin.orgs:full outside the root org, even to a caller holding it', async () => {
        const other = await ctx.createOrg('tenant');
        const caller = await ctx.tokenFor(['admin.apps:full', 'admin.orgs:full'], { orgId: other.org.id });
        const res = await post(caller.token, { name: 'org admin', scopes: ['admin.orgs:full'] }).expect(403);
        expect(res.body).toMatchObject({ code: 'forbidden', forbidden_scopes: ['admin.orgs:full'] });
        expect(res.body.detail).toContain('root organization');
      });

      it('refuses a tenant an app for an audience the operator does not list, so it cannot mint tokens another API accepts', async () => {
        const other = await ctx.createOrg('spoofer');
        const caller = await ctx.tokenFor(['admin.apps:full'], { orgId: other.org.id });
        const before = await orgSnapshot(ctx, other.org.id);
        const res = await post(caller.token, { name: 'spoof', scopes: ['runtime:run'], audience: 'https://api-a.example' }).expect(400);
        expect(res.body).toMatchObject({ code: 'invalid_request', allowed_audiences: ['http://scope-auth.test'] });
        const victim = await ctx.createApp(other.org.id, ['tools:deploy']);
        const patched = await request(ctx.app).patch(`/v1/apps/${victim.id}`).set('Authorization', `Bearer ${caller.token}`).send({ audience: 'https://api-a.example' }).expect(400);
        expect(patched.body.allowed_audiences).toEqual(['http://scope-auth.test']);
        expect((await orgSnapshot(ctx, other.org.id)).apps).toEqual([...before.apps, expect.objectContaining({ id: victim.id, audience: null })]);
      });

      it('never shows an app of another org in a list', async () => {
        const other = await ctx.createOrg('lister');
        const foreign = await ctx.createApp(other.org.id, ['tools:deploy']);
        const res = await request(ctx.app).get('/v1/apps?limit=200').set('Authorization', `Bearer ${await ctx.tokenOf(ctx.rootCredentials)}`).expect(200);
        expect(res.body.data.every((a: { org_id: string }) => a.org_id === ctx.root.org.id)).toBe(true);
        expect(res.body.data.map((a: { id: string }) => a.id)).not.toContain(foreign.id);
      });
    });
  });
});
