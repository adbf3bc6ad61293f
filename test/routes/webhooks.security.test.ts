import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSnapshot } from '../helpers/admin.js';
import { runCommonAuthTests } from '../helpers/common-auth.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { loggedApp } from '../helpers/log-lines.js';
import { createPerson, session } from '../helpers/people.js';
import { deliveryRows, registerWebhook } from '../helpers/webhooks.js';

const HOOK = { url: 'https://hooks.example.com/in', events: ['key.revoked', 'key.created'] };

describe.each(DIALECTS)('/v1/webhooks, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());
    const getCtx = () => ctx;
    /** A webhook of `orgId`, registered by an admin of that org (the org's earlier ones removed: an org has at most 20). */
    const webhookIn = async (c: TestContext, orgId: string) => {
      await c.db.deleteFrom('webhook_deliveries').where('org_id', '=', orgId).execute();
      await c.db.deleteFrom('webhooks').where('org_id', '=', orgId).execute();
      const { token } = await c.tokenFor(['admin.webhooks:full'], { orgId });
      return (await registerWebhook(c, token, HOOK)).webhook.id;
    };

    describe('GET /v1/webhooks', () => runCommonAuthTests(getCtx, { method: 'get', path: () => '/v1/webhooks', scope: 'admin.webhooks:view' }));
    describe('POST /v1/webhooks', () => runCommonAuthTests(getCtx, { method: 'post', path: () => '/v1/webhooks', body: HOOK, scope: 'admin.webhooks:full' }));
    describe('GET /v1/webhooks/{webhook_id}', () =>
      runCommonAuthTests(getCtx, { method: 'get', path: async (c, o) => `/v1/webhooks/${await webhookIn(c, o)}`, scope: 'admin.webhooks:view', otherOrg: 404 }));
    describe('PATCH /v1/webhooks/{webhook_id}', () =>
      runCommonAuthTests(getCtx, {
        method: 'patch',
        path: async (c, o) => `/v1/webhooks/${await webhookIn(c, o)}`,
        body: { url: 'https://attacker.example/steal' },
        scope: 'admin.webhooks:full',
        otherOrg: 404,
      }));
    describe('DELETE /v1/webhooks/{webhook_id}', () =>
      runCommonAuthTests(getCtx, { method: 'delete', path: async (c, o) => `/v1/webhooks/${await webhookIn(c, o)}`, scope: 'admin.webhooks:full', otherOrg: 404 }));
    describe('POST /v1/webhooks/{webhook_id}/rotate-secret', () =>
      runCommonAuthTests(getCtx, { method: 'post', path: async (c, o) => `/v1/webhooks/${await webhookIn(c, o)}/rotate-secret`, scope: 'admin.webhooks:full', otherOrg: 404 }));
    describe('GET /v1/webhooks/{webhook_id}/deliveries', () =>
      runCommonAuthTests(getCtx, { method: 'get', path: async (c, o) => `/v1/webhooks/${await webhookIn(c, o)}/deliveries`, scope: 'admin.webhooks:view', otherOrg: 404 }));

    describe('tenancy', () => {
      it('lists only the caller’s org’s webhooks, and another org’s webhook answers 404 exactly as a missing one', async () => {
        const mine = await ctx.tokenFor(['admin.webhooks:full']);
        const theirs = await ctx.createOrg('theirs');
        const foreign = await webhookIn(ctx, theirs.org.id);
        const own = (await registerWebhook(ctx, mine.token, HOOK)).webhook.id;
        const list = await request(ctx.app).get('/v1/webhooks?limit=200').set('Authorization', `Bearer ${mine.token}`).expect(200);
        const ids = list.body.data.map((w: { id: string }) => w.id);
        expect(ids).toContain(own);
        expect(ids).not.toContain(foreign);
        const missing = await request(ctx.app).get('/v1/webhooks/whk_01JD0000000000000000000000').set('Authorization', `Bearer ${mine.token}`).expect(404);
        const other = await request(ctx.app).get(`/v1/webhooks/${foreign}`).set('Authorization', `Bearer ${mine.token}`).expect(404);
        expect(other.body.detail).toBe(`no webhook ${foreign} in this organization`);
        expect(Object.keys(other.body).sort()).toEqual(Object.keys(missing.body).sort());
      });

      it('sends an org only its own events: a key revoked in one org enqueues nothing for another org’s webhooks', async () => {
        const tenant = await ctx.createOrg('quiet');
        const foreign = await webhookIn(ctx, tenant.org.id);
        const admin = await ctx.tokenFor(['admin.apps:full']);
        const client = await ctx.createClient(['tools:deploy']);
        await request(ctx.app).post(`/v1/keys/${client.keyId}/revoke`).set('Authorization', `Bearer ${admin.token}`).send({}).expect(200);
        expect(await deliveryRows(ctx, foreign)).toEqual([]);
      });

      it('deletes an org’s webhooks and deliveries with the org', async () => {
        const tenant = await ctx.createOrg('leaving');
        const hook = await webhookIn(ctx, tenant.org.id);
        const { token } = await ctx.tokenFor(['admin.apps:full'], { orgId: tenant.org.id });
        const appId = (await request(ctx.app).post('/v1/apps').set('Authorization', `Bearer ${token}`).send({ name: 'a', scopes: [] }).expect(201)).body.id;
        await request(ctx.app).post(`/v1/apps/${appId}/keys`).set('Authorization', `Bearer ${token}`).send({ name: 'k' }).expect(201);
        expect(await deliveryRows(ctx, hook)).toHaveLength(1);
        const root = await ctx.tokenFor(['admin.orgs:full', 'admin.apps:full', 'admin.audit:view', 'admin.users:full', 'admin.webhooks:full', 'tokens:introspect']);
        await request(ctx.app).delete(`/v1/orgs/${tenant.org.id}`).set('Authorization', `Bearer ${root.token}`).expect(204);
        expect(await ctx.db.selectFrom('webhooks').select('id').where('org_id', '=', tenant.org.id).execute()).toEqual([]);
        expect(await deliveryRows(ctx, hook)).toEqual([]);
      });
    });

    describe('the signing secret', () => {
      it('never appears in a log line, and is answered only by creation and rotation', async () => {
        const logged = loggedApp(ctx.deps);
        const admin = await ctx.tokenFor(['admin.webhooks:full', 'admin.audit:view']);
        const as = (req: request.Test) => req.set('Authorization', `Bearer ${admin.token}`);
        const created = await as(request(logged.app).post('/v1/webhooks')).send(HOOK).expect(201);
        const id = created.body.webhook.id as string;
        const rotated = await as(request(logged.app).post(`/v1/webhooks/${id}/rotate-secret`)).send({}).expect(200);
        const answers = [
          await as(request(logged.app).get(`/v1/webhooks/${id}`)).expect(200),
          await as(request(logged.app).get('/v1/webhooks')).expect(200),
          await as(request(logged.app).patch(`/v1/webhooks/${id}`)).send({ description: 'd' }).expect(200),
          await as(request(logged.app).get(`/v1/webhooks/${id}/deliveries`)).expect(200),
          await as(request(logged.app).get('/v1/audit?limit=200')).expect(200),
        ];
        const [row] = await ctx.db.selectFrom('webhooks').select('secret_encrypted').where('id', '=', id).execute();
        for (const secret of [created.body.secret as string, rotated.body.secret as string, row!.secret_encrypted]) {
          expect(logged.text()).not.toContain(secret);
          for (const answer of answers) expect(answer.text).not.toContain(secret);
        }
        expect(logged.lines.length).toBeGreaterThan(0);
      });
    });

    describe('least privilege among admins', () => {
      it('lets admin.webhooks:view read but never change, and a session’s change without the CSRF token change nothing', async () => {
        const owner = await ctx.tokenFor(['admin.webhooks:full']);
        const id = (await registerWebhook(ctx, owner.token, HOOK)).webhook.id;
        const viewer = await ctx.tokenFor(['admin.webhooks:view']);
        const as = (req: request.Test) => req.set('Authorization', `Bearer ${viewer.token}`);
        await as(request(ctx.app).get(`/v1/webhooks/${id}`)).expect(200);
        const before = await orgSnapshot(ctx, ctx.root.org.id);
        for (const res of [
          await as(request(ctx.app).patch(`/v1/webhooks/${id}`)).send({ url: 'https://attacker.example/' }),
          await as(request(ctx.app).post(`/v1/webhooks/${id}/rotate-secret`)).send({}),
          await as(request(ctx.app).delete(`/v1/webhooks/${id}`)),
          await as(request(ctx.app).post('/v1/webhooks')).send(HOOK),
        ]) {
          expect(res.status).toBe(403);
          expect(res.body).toMatchObject({ code: 'insufficient_scope', required_scope: 'admin.webhooks:full' });
        }
        expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
        const person = await createPerson(ctx, { role: 'owner' });
        const noCsrf = await request(ctx.app).patch(`/v1/webhooks/${id}`).set('Cookie', person.cookie).send({ enabled: false });
        expect(noCsrf.status).toBe(403);
        expect((await session(ctx.app, person).get(`/v1/webhooks/${id}`).expect(200)).body.enabled).toBe(true);
      });
    });
  });
});
