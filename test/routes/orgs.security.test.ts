import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { TEST_AUDIENCES } from '../helpers/catalog.js';
import { runCommonAuthTests } from '../helpers/common-auth.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, session } from '../helpers/people.js';
import { QueryCounter } from '../helpers/query-counter.js';
import { createApp } from '../../src/app.js';

describe.each(DIALECTS)('/v1/orgs, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, catalog: { audiences: [...TEST_AUDIENCES] } });
    });
    afterAll(async () => ctx?.close());
    const freshOrg = async (c: TestContext) => `/v1/orgs/${(await c.createOrg('target')).org.id}`;

    // "Another org" here is an admin outside the root org: even holding admin.orgs:full, 403.
    describe('GET /v1/orgs', () => runCommonAuthTests(() => ctx, { method: 'get', path: () => '/v1/orgs', scope: 'admin.orgs:full', otherOrg: 403 }));
    describe('POST /v1/orgs', () =>
      runCommonAuthTests(() => ctx, { method: 'post', path: () => '/v1/orgs', body: { name: 'rogue' }, scope: 'admin.orgs:full', otherOrg: 403 }));
    describe('GET /v1/orgs/{org_id}', () => runCommonAuthTests(() => ctx, { method: 'get', path: freshOrg, scope: 'admin.orgs:full', otherOrg: 403 }));
    describe('PATCH /v1/orgs/{org_id}', () =>
      runCommonAuthTests(() => ctx, { method: 'patch', path: freshOrg, body: { disabled: true }, scope: 'admin.orgs:full', otherOrg: 403 }));
    describe('DELETE /v1/orgs/{org_id}', () => runCommonAuthTests(() => ctx, { method: 'delete', path: freshOrg, scope: 'admin.orgs:full', otherOrg: 403 }));

    it('lets no tenant admin read, change or delete another org, nor change or delete its own beyond require_mfa, and changes nothing', async () => {
      const tenant = await ctx.createOrg('tenant');
      const token = await ctx.tokenOf({ orgId: tenant.org.id, keyId: tenant.key.id, secret: tenant.secret });
      const bearer = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
      const before = await ctx.db.selectFrom('orgs').selectAll().orderBy('id').execute();
      const root = `/v1/orgs/${ctx.root.org.id}`;
      await bearer(request(ctx.app).get(root)).expect(403);
      for (const body of [{ require_mfa: true }, { allowed_scopes: null }]) await bearer(request(ctx.app).patch(root)).send(body).expect(403);
      await bearer(request(ctx.app).delete(root)).expect(403);
      const own = `/v1/orgs/${tenant.org.id}`;
      for (const body of [{ allowed_scopes: null }, { name: 'renamed' }, { disabled: true }, { name: 'renamed', require_mfa: true }]) {
        const res = await bearer(request(ctx.app).patch(own)).send(body).expect(403);
        expect(res.body.required_scope).toBe('admin.orgs:full');
      }
      await bearer(request(ctx.app).delete(own)).expect(403);
      expect(await ctx.db.selectFrom('orgs').selectAll().orderBy('id').execute()).toEqual(before);
      // Its own org it may read (an org's owners hold admin.users:full), and require a second factor of its people.
      expect((await bearer(request(ctx.app).get(own)).expect(200)).body).toMatchObject({ id: tenant.org.id, require_mfa: false });
      expect((await bearer(request(ctx.app).patch(own)).send({ require_mfa: true }).expect(200)).body.require_mfa).toBe(true);
    });

    describe('auto_revoke_unused_days', () => {
      const policyOf = async (orgId: string) =>
        (await ctx.db.selectFrom('orgs').select('auto_revoke_unused_days').where('id', '=', orgId).executeTakeFirstOrThrow()).auto_revoke_unused_days;

      it('lets no org’s admin set another org’s policy, and changes nothing', async () => {
        const a = await ctx.createOrg('A');
        const b = await ctx.createOrg('B');
        const tokenA = await ctx.tokenOf({ orgId: a.org.id, keyId: a.key.id, secret: a.secret });
        for (const target of [b.org.id, ctx.root.org.id]) {
          const res = await request(ctx.app).patch(`/v1/orgs/${target}`).set('Authorization', `Bearer ${tokenA}`).send({ auto_revoke_unused_days: 1 }).expect(403);
          expect(res.body).toMatchObject({ code: 'insufficient_scope', required_scope: 'admin.orgs:full' });
          expect(await policyOf(target)).toBeNull();
        }
        const ownerOfA = await createPerson(ctx, { orgId: a.org.id, role: 'owner' });
        await session(ctx.app, ownerOfA).patch(`/v1/orgs/${b.org.id}`, { auto_revoke_unused_days: 1 }).expect(403);
        expect(await policyOf(b.org.id)).toBeNull();
        expect(await auditEvents(ctx, b.org.id, { action: 'org.updated' })).toEqual([]);
        // Its own: yes.
        await session(ctx.app, ownerOfA).patch(`/v1/orgs/${a.org.id}`, { auto_revoke_unused_days: 45 }).expect(200);
        expect(await policyOf(a.org.id)).toBe(45);
      });

      it('refuses an org’s viewers and editors (403), who do not hold the power over its people', async () => {
        const org = await ctx.createOrg('people');
        for (const role of ['viewer', 'editor'] as const) {
          const person = await createPerson(ctx, { orgId: org.org.id, role });
          const res = await session(ctx.app, person).patch(`/v1/orgs/${org.org.id}`, { auto_revoke_unused_days: 7 }).expect(403);
          expect(res.body.code).toBe('insufficient_scope');
        }
        expect(await policyOf(org.org.id)).toBeNull();
      });

      it('lets a tenant owner set the policy only alongside the other owners’ fields, never with the operator’s', async () => {
        const tenant = await ctx.createOrg('mixed');
        const token = await ctx.tokenOf({ orgId: tenant.org.id, keyId: tenant.key.id, secret: tenant.secret });
        const res = await request(ctx.app).patch(`/v1/orgs/${tenant.org.id}`).set('Authorization', `Bearer ${token}`).send({ auto_revoke_unused_days: 7, name: 'renamed' }).expect(403);
        expect(res.body.required_scope).toBe('admin.orgs:full');
        expect(await policyOf(tenant.org.id)).toBeNull();
      });
    });

    describe('tenancy for downstream APIs: the attack of one org on another org’s API', () => {
      // The operator's API A verifies tokens with audience https://api.example.com and
      // requires runtime:run, an entitlement sold to org A only.
      let rootToken: string;
      let orgA: Awaited<ReturnType<TestContext['createOrg']>>;
      let orgB: Awaited<ReturnType<TestContext['createOrg']>>;
      let tokenB: string;
      const as = (token: string) => ({
        post: (path: string, body: object) => request(ctx.app).post(path).set('Authorization', `Bearer ${token}`).send(body),
        patch: (path: string, body: object) => request(ctx.app).patch(path).set('Authorization', `Bearer ${token}`).send(body),
      });
      beforeAll(async () => {
        rootToken = (await ctx.tokenFor(['admin.orgs:full'])).token;
        orgA = await ctx.createOrg('A');
        orgB = await ctx.createOrg('B');
        await as(rootToken).patch(`/v1/orgs/${orgA.org.id}`, { allowed_scopes: ['runtime:run', 'agents:full'] }).expect(200);
        await as(rootToken).patch(`/v1/orgs/${orgB.org.id}`, { allowed_scopes: ['agents:view'] }).expect(200);
        tokenB = await ctx.tokenOf({ orgId: orgB.org.id, keyId: orgB.key.id, secret: orgB.secret });
      });

      it('refuses org B an app with an audience the catalogue does not list, naming the allowed ones', async () => {
        const before = await ctx.db.selectFrom('apps').select('id').where('org_id', '=', orgB.org.id).execute();
        const res = await as(tokenB).post('/v1/apps', { name: 'spoof', scopes: ['agents:view'], audience: 'https://api-a.example' }).expect(400);
        expect(res.body).toMatchObject({ code: 'invalid_request', allowed_audiences: ['https://api.example.com', 'https://billing.example.com', 'http://scope-auth.test'] });
        expect(res.body.detail).toContain('"https://api-a.example" is not an audience of this server');
        expect(await ctx.db.selectFrom('apps').select('id').where('org_id', '=', orgB.org.id).execute()).toEqual(before);
      });

      it('refuses org B a grant of runtime:run, outside its allowance, on create and on change, naming it', async () => {
        const before = await ctx.db.selectFrom('apps').selectAll().where('org_id', '=', orgB.org.id).orderBy('id').execute();
        const res = await as(tokenB).post('/v1/apps', { name: 'spoof', scopes: ['runtime:run', 'agents:view'], audience: 'https://api.example.com' }).expect(400);
        expect(res.body).toMatchObject({ code: 'invalid_request', outside_allowance: ['runtime:run'], allowed_scopes: ['agents:view'] });
        expect(res.body.detail).toContain('runtime:run is outside this organization');
        const changed = await as(tokenB).patch(`/v1/apps/${orgB.adminApp.id}`, { scopes: [...orgB.adminApp.scopes, 'runtime:run'] }).expect(400);
        expect(changed.body.outside_allowance).toEqual(['runtime:run']);
        // A level above the allowed one is outside it too.
        expect((await as(tokenB).post('/v1/apps', { name: 'x', scopes: ['agents:edit'] }).expect(400)).body.outside_allowance).toEqual(['agents:edit']);
        expect(await ctx.db.selectFrom('apps').selectAll().where('org_id', '=', orgB.org.id).orderBy('id').execute()).toEqual(before);
      });

      it('lets org A grant it, and issues org A a token for API A', async () => {
        const tokenA = await ctx.tokenOf({ orgId: orgA.org.id, keyId: orgA.key.id, secret: orgA.secret });
        const app = await as(tokenA).post('/v1/apps', { name: 'runner', scopes: ['runtime:run'], audience: 'https://api.example.com' }).expect(201);
        const key = await as(tokenA).post(`/v1/apps/${app.body.id}/keys`, { name: 'k' }).expect(201);
        const exchanged = await ctx.exchange({ orgId: orgA.org.id, keyId: key.body.key.id, secret: key.body.secret }).expect(200);
        expect(exchanged.body.scope).toBe('runtime:run sessions:create');
      });

      it('gives an app granted a scope before its allowance was narrowed only the allowed part in its next token', async () => {
        // Granted when every scope was allowed (as every org before this change).
        const client = await ctx.createClient(['runtime:run', 'agents:full'], { orgId: orgA.org.id, app: { audience: 'https://api.example.com' } });
        expect((await ctx.exchange(client).expect(200)).body.scope).toBe('agents:edit agents:full agents:view runtime:run sessions:create');
        await as(rootToken).patch(`/v1/orgs/${orgA.org.id}`, { allowed_scopes: ['agents:view', 'sessions:create'] }).expect(200);
        expect((await ctx.exchange(client).expect(200)).body.scope).toBe('agents:view sessions:create');
        // Asking for it explicitly is refused as a scope not granted is, and audited with the reason.
        const refused = await ctx.exchange(client, 'runtime:run').expect(400);
        expect(refused.body.error).toBe('invalid_scope');
        const [event] = await auditEvents(ctx, orgA.org.id, { action: 'token.refused', target_id: client.keyId });
        expect(event!.details).toEqual({ reason: 'scope_not_granted', scopes: ['runtime:run'], outside_allowance: ['runtime:run'] });
        // Widening it again restores the app's full grant at the next exchange.
        await as(rootToken).patch(`/v1/orgs/${orgA.org.id}`, { allowed_scopes: null }).expect(200);
        expect((await ctx.exchange(client, 'runtime:run').expect(200)).body.scope).toBe('runtime:run sessions:create');
      });

      it('reads the allowance and the disabled state with the key row: a warm exchange still costs one query', async () => {
        const counter = new QueryCounter();
        const counted = createApp({ ...ctx.deps, db: ctx.db.withPlugin(counter) });
        await as(rootToken).patch(`/v1/orgs/${orgA.org.id}`, { allowed_scopes: ['agents:view'] }).expect(200);
        const client = await ctx.createClient(['agents:full'], { orgId: orgA.org.id });
        const exchange = () => request(counted).post('/v1/token').send({ org_id: client.orgId, key_id: client.keyId, secret: client.secret });
        expect((await exchange().expect(200)).body.scope).toBe('agents:view');
        counter.count = 0;
        expect((await exchange().expect(200)).body.scope).toBe('agents:view');
        expect(counter.count).toBe(1);
        // Changed by another instance: this one sees it at the next exchange, still one query.
        await ctx.db.updateTable('orgs').set({ allowed_scopes: JSON.stringify(['agents:edit']) }).where('id', '=', orgA.org.id).execute();
        counter.count = 0;
        expect((await exchange().expect(200)).body.scope).toBe('agents:edit agents:view');
        expect(counter.count).toBe(1);
        await ctx.db.updateTable('orgs').set({ disabled_at: ctx.clock.now() }).where('id', '=', orgA.org.id).execute();
        await exchange().expect(401);
        await ctx.db.updateTable('orgs').set({ disabled_at: null, allowed_scopes: null }).where('id', '=', orgA.org.id).execute();
      });

      it('keeps the admin scopes of an org’s admin app whatever its allowance', async () => {
        await as(rootToken).patch(`/v1/orgs/${orgB.org.id}`, { allowed_scopes: [] }).expect(200);
        const exchanged = await ctx.exchange({ orgId: orgB.org.id, keyId: orgB.key.id, secret: orgB.secret }).expect(200);
        expect(exchanged.body.scope.split(' ')).toEqual(['admin.apps:edit', 'admin.apps:full', 'admin.apps:view', 'admin.audit:view', 'admin.users:full', 'admin.webhooks:full', 'admin.webhooks:view', 'tokens:introspect']);
      });
    });

    it('refuses the admin of a non-root org with 403 naming admin.orgs:full, and creates nothing', async () => {
      const other = await ctx.createOrg('tenant');
      const token = await ctx.tokenOf({ orgId: other.org.id, keyId: other.key.id, secret: other.secret });
      const before = await ctx.db.selectFrom('orgs').select('id').execute();
      const res = await request(ctx.app).post('/v1/orgs').set('Authorization', `Bearer ${token}`).send({ name: 'rogue' }).expect(403);
      expect(res.body).toMatchObject({ code: 'insufficient_scope', required_scope: 'admin.orgs:full' });
      expect(await ctx.db.selectFrom('orgs').select('id').execute()).toEqual(before);
    });

    it('cannot be granted to a non-root org’s apps, so a tenant can never reach /v1/orgs', async () => {
      const other = await ctx.createOrg('climber');
      const token = await ctx.tokenOf({ orgId: other.org.id, keyId: other.key.id, secret: other.secret });
      const res = await request(ctx.app)
        .patch(`/v1/apps/${other.adminApp.id}`)
        .set('Authorization', `Bearer ${token}`)
        .send({ scopes: [...other.adminApp.scopes, 'admin.orgs:full'] })
        .expect(403);
      expect(res.body.forbidden_scopes).toEqual(['admin.orgs:full']);
    });
  });
});
