import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, TEST_ENV, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('/v1/orgs, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let rootToken: string;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      rootToken = await ctx.tokenOf(ctx.rootCredentials);
    });
    afterAll(async () => ctx?.close());
    const iso = (ms: number) => new Date(ms).toISOString();

    it('creates an org with its admin app and first key; the secret comes back once', async () => {
      const res = await request(ctx.app).post('/v1/orgs').set('Authorization', `Bearer ${rootToken}`).send({ name: 'Acme' }).expect(201);
      expect(res.headers['cache-control']).toBe('no-store');
      const { org, admin_app, key, secret } = res.body;
      expect(org).toEqual({
        id: expect.stringMatching(/^org_/),
        name: 'Acme',
        is_root: false,
        allowed_scopes: null,
        effective_allowed_scopes: ctx.deps.catalog.scopes.filter((s) => !ctx.deps.catalog.builtins.includes(s)),
        disabled: false,
        disabled_at: null,
        require_mfa: false,
        auto_revoke_unused_days: null,
        created_at: iso(ctx.clock.now()),
        created_by: ctx.root.key.id,
      });
      expect(res.headers.location).toBe(`/v1/orgs/${org.id}`);
      expect(admin_app).toMatchObject({ org_id: org.id, name: 'admin', created_by: ctx.root.key.id });
      expect(admin_app.scopes).toEqual(['admin.apps:edit', 'admin.apps:full', 'admin.apps:view', 'admin.audit:view', 'admin.users:full', 'admin.webhooks:full', 'admin.webhooks:view', 'tokens:introspect']);
      expect(admin_app.effective_scopes).not.toContain('admin.orgs:full');
      expect(key).toMatchObject({ org_id: org.id, app_id: admin_app.id, name: 'admin', status: 'active', secret_hint: secret.slice(-4) });
      expect(secret).toMatch(/^secret_[0-9A-Za-z]{46}$/);

      // The new org's admin works at once, inside its own org only.
      const exchanged = await ctx.exchange({ orgId: org.id, keyId: key.id, secret }).expect(200);
      expect(exchanged.body.scope.split(' ')).not.toContain('admin.orgs:full');
      const token = exchanged.body.access_token;
      const app = await request(ctx.app).post('/v1/apps').set('Authorization', `Bearer ${token}`).send({ name: 'svc', scopes: ['agents:view'] }).expect(201);
      expect(app.body.org_id).toBe(org.id);
      const apps = await request(ctx.app).get('/v1/apps').set('Authorization', `Bearer ${token}`).expect(200);
      expect(apps.body.data.map((a: { id: string }) => a.id).sort()).toEqual([admin_app.id, app.body.id].sort());
      await request(ctx.app).get('/v1/orgs').set('Authorization', `Bearer ${token}`).expect(403);
    });

    it('answers the first owner’s one-time invitation link when asked for, which makes the new org’s owner; null otherwise', async () => {
      const plain = await request(ctx.app).post('/v1/orgs').set('Authorization', `Bearer ${rootToken}`).send({ name: 'No Owner Yet' }).expect(201);
      expect(plain.body.owner_invitation_url).toBeNull();
      const res = await request(ctx.app).post('/v1/orgs').set('Authorization', `Bearer ${rootToken}`).send({ name: 'Owned', invite_owner: true }).expect(201);
      const url = res.body.owner_invitation_url as string;
      expect(url).toMatch(/^http:\/\/scope-auth\.test\/console\/invitations\/[A-Za-z0-9_-]+$/);
      const token = url.slice(url.lastIndexOf('/') + 1);
      const joined = await request(ctx.app).post(`/v1/invitations/${token}`).send({ email: 'first@owned.example', name: 'First', password: 'correct horse battery staple' }).expect(201);
      expect(joined.body.user).toMatchObject({ org_id: res.body.org.id, role: 'owner', status: 'active' });
      await request(ctx.app).post(`/v1/invitations/${token}`).send({ email: 'second@owned.example', name: 'Second', password: 'correct horse battery staple' }).expect(404);
      for (const orgId of [res.body.org.id, ctx.root.org.id]) {
        expect((await auditEvents(ctx, orgId, { action: 'user.invited' })).some((e) => e.target_id === res.body.org.id && e.details['first_owner'] === true)).toBe(true);
      }
      await request(ctx.app).post('/v1/orgs').set('Authorization', `Bearer ${rootToken}`).send({ name: 'Bad', invite_owner: 'yes' }).expect(400);
    });

    it('records org.created in the new org’s log and in the creator’s', async () => {
      const res = await request(ctx.app).post('/v1/orgs').set('Authorization', `Bearer ${rootToken}`).send({ name: 'Audited' }).expect(201);
      const orgId = res.body.org.id;
      const [inRoot] = await auditEvents(ctx, ctx.root.org.id, { action: 'org.created', target_id: orgId });
      expect(inRoot).toMatchObject({ actor: ctx.root.key.id, target_type: 'org', details: { name: 'Audited' }, ip: expect.any(String) });
      const own = await auditEvents(ctx, orgId);
      expect(own.map((e) => e.action).sort()).toEqual(['app.created', 'key.created', 'org.created']);
      expect(own.every((e) => e.actor === ctx.root.key.id)).toBe(true);
      expect(JSON.stringify(own)).not.toContain(res.body.secret);
    });

    it('lists every org, newest first, the root org last', async () => {
      for (const name of ['one', 'two', 'three']) {
        ctx.clock.advance(1000);
        await request(ctx.app).post('/v1/orgs').set('Authorization', `Bearer ${rootToken}`).send({ name }).expect(201);
      }
      const res = await request(ctx.app).get('/v1/orgs?limit=200').set('Authorization', `Bearer ${rootToken}`).expect(200);
      const names = res.body.data.map((o: { name: string }) => o.name);
      expect(names.slice(0, 3)).toEqual(['three', 'two', 'one']);
      expect(res.body.data.at(-1)).toMatchObject({ id: ctx.root.org.id, name: 'default', is_root: true, created_by: 'system' });
      const page = await request(ctx.app).get('/v1/orgs?limit=2').set('Authorization', `Bearer ${rootToken}`).expect(200);
      expect(page.body.data).toHaveLength(2);
      const next = await request(ctx.app).get(`/v1/orgs?limit=2&cursor=${page.body.next_cursor}`).set('Authorization', `Bearer ${rootToken}`).expect(200);
      expect(next.body.data[0].name).toBe('one');
    });
    const as = (token: string) => ({
      get: (path: string) => request(ctx.app).get(path).set('Authorization', `Bearer ${token}`),
      patch: (path: string, body: object) => request(ctx.app).patch(path).set('Authorization', `Bearer ${token}`).send(body),
      delete: (path: string) => request(ctx.app).delete(path).set('Authorization', `Bearer ${token}`),
    });

    it('shows one org as the list does', async () => {
      const created = await ctx.createOrg('shown');
      const one = await as(rootToken).get(`/v1/orgs/${created.org.id}`).expect(200);
      expect(one.headers['cache-control']).toBe('no-store');
      const listed = await as(rootToken).get('/v1/orgs?limit=200').expect(200);
      expect(listed.body.data.find((o: { id: string }) => o.id === created.org.id)).toEqual(one.body);
      expect(one.body).toMatchObject({ name: 'shown', is_root: false, allowed_scopes: null, disabled: false, disabled_at: null });
      expect((await as(rootToken).get(`/v1/orgs/${ctx.root.org.id}`).expect(200)).body).toMatchObject({ is_root: true, allowed_scopes: null });
    });

    it('renames an org and sets its allowance, expanded as grants are, audited in both logs with what changed', async () => {
      const created = await ctx.createOrg('old name');
      const res = await as(rootToken).patch(`/v1/orgs/${created.org.id}`, { name: 'New name', allowed_scopes: ['runtime:run', 'agents:edit', 'runtime:run'] }).expect(200);
      expect(res.body).toMatchObject({
        name: 'New name',
        allowed_scopes: ['agents:edit', 'runtime:run'],
        effective_allowed_scopes: ['agents:edit', 'agents:view', 'runtime:run', 'sessions:create'],
      });
      expect((await as(rootToken).get(`/v1/orgs/${created.org.id}`).expect(200)).body).toEqual(res.body);
      const changes = { name: { from: 'old name', to: 'New name' }, allowed_scopes: { from: null, to: ['agents:edit', 'runtime:run'] } };
      for (const orgId of [created.org.id, ctx.root.org.id]) {
        const [event] = await auditEvents(ctx, orgId, { action: 'org.updated', target_id: created.org.id });
        expect(event).toMatchObject({ actor: ctx.root.key.id, target_type: 'org', details: { changes } });
      }
      // Back to every scope of the catalogue; an unchanged value is no event.
      const reset = await as(rootToken).patch(`/v1/orgs/${created.org.id}`, { allowed_scopes: null, name: 'New name' }).expect(200);
      expect(reset.body.allowed_scopes).toBeNull();
      const events = await auditEvents(ctx, created.org.id, { action: 'org.updated' });
      expect(events.map((e) => e.details)).toEqual([{ changes: { allowed_scopes: { from: ['agents:edit', 'runtime:run'], to: null } } }, { changes }]);
      await as(rootToken).patch(`/v1/orgs/${created.org.id}`, { allowed_scopes: null }).expect(200);
      expect(await auditEvents(ctx, created.org.id, { action: 'org.updated' })).toHaveLength(2);
    });

    it('creates an org with auto_revoke_unused_days, audited with it in org.created', async () => {
      const res = await request(ctx.app).post('/v1/orgs').set('Authorization', `Bearer ${rootToken}`).send({ name: 'Tidy', auto_revoke_unused_days: 90 }).expect(201);
      expect(res.body.org.auto_revoke_unused_days).toBe(90);
      expect((await as(rootToken).get(`/v1/orgs/${res.body.org.id}`).expect(200)).body.auto_revoke_unused_days).toBe(90);
      const [event] = await auditEvents(ctx, res.body.org.id, { action: 'org.created' });
      expect(event!.details).toEqual({ name: 'Tidy', allowed_scopes: null, auto_revoke_unused_days: 90 });
    });

    it('sets and turns off auto_revoke_unused_days, each change audited in both logs as org.updated with from and to', async () => {
      const created = await ctx.createOrg('policy');
      const set = await as(rootToken).patch(`/v1/orgs/${created.org.id}`, { auto_revoke_unused_days: 30 }).expect(200);
      expect(set.body).toMatchObject({ id: created.org.id, auto_revoke_unused_days: 30 });
      expect(await ctx.db.selectFrom('orgs').select('auto_revoke_unused_days').where('id', '=', created.org.id).executeTakeFirstOrThrow()).toEqual({ auto_revoke_unused_days: 30 });
      await as(rootToken).patch(`/v1/orgs/${created.org.id}`, { auto_revoke_unused_days: 30 }).expect(200);
      const off = await as(rootToken).patch(`/v1/orgs/${created.org.id}`, { auto_revoke_unused_days: null }).expect(200);
      expect(off.body.auto_revoke_unused_days).toBeNull();
      for (const orgId of [created.org.id, ctx.root.org.id]) {
        const events = await auditEvents(ctx, orgId, { action: 'org.updated', target_id: created.org.id });
        expect(events.map((e) => e.details)).toEqual([
          { changes: { auto_revoke_unused_days: { from: 30, to: null } } },
          { changes: { auto_revoke_unused_days: { from: null, to: 30 } } },
        ]);
        expect(events[0]).toMatchObject({ actor: ctx.root.key.id });
      }
    });

    it('lets an org’s own owners set its auto_revoke_unused_days, their keys’ hygiene', async () => {
      const tenant = await ctx.createOrg('self-governed');
      const owner = await ctx.tokenOf({ orgId: tenant.org.id, keyId: tenant.key.id, secret: tenant.secret });
      const res = await as(owner).patch(`/v1/orgs/${tenant.org.id}`, { auto_revoke_unused_days: 180, require_mfa: true }).expect(200);
      expect(res.body).toMatchObject({ auto_revoke_unused_days: 180, require_mfa: true });
      const [event] = await auditEvents(ctx, tenant.org.id, { action: 'org.updated' });
      expect(event).toMatchObject({ actor: tenant.key.id, details: { changes: { auto_revoke_unused_days: { from: null, to: 180 }, require_mfa: { from: false, to: true } } } });
      // Filed once: the actor's org is the org itself.
      expect(await auditEvents(ctx, ctx.root.org.id, { action: 'org.updated', target_id: tenant.org.id })).toEqual([]);
    });

    it('disables an org at once: its exchanges are invalid_client audited as org_disabled, its admin calls 401; enabling restores both', async () => {
      const tenant = await ctx.createOrg('paused');
      const credentials = { orgId: tenant.org.id, keyId: tenant.key.id, secret: tenant.secret };
      const client = await ctx.createClient(['tools:deploy'], { orgId: tenant.org.id });
      const adminToken = await ctx.tokenOf(credentials);
      await as(adminToken).get('/v1/apps').expect(200);

      const disabled = await as(rootToken).patch(`/v1/orgs/${tenant.org.id}`, { disabled: true }).expect(200);
      expect(disabled.body).toMatchObject({ disabled: true, disabled_at: iso(ctx.clock.now()) });
      for (const who of [credentials, client]) {
        const refused = await ctx.exchange(who).expect(401);
        expect(refused.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
        const [event] = await auditEvents(ctx, tenant.org.id, { action: 'token.refused', target_id: who.keyId });
        expect(event).toMatchObject({ actor: 'anonymous', details: { reason: 'org_disabled' } });
      }
      const denied = await as(adminToken).get('/v1/apps').expect(401);
      expect(denied.headers['www-authenticate']).toContain('error="invalid_token"');
      const introspector = await ctx.tokenFor(['tokens:introspect']);
      const introspected = await request(ctx.app).post('/oauth2/introspect').set('Authorization', `Bearer ${introspector.token}`).type('form').send({ token: adminToken }).expect(200);
      expect(introspected.body).toEqual({ active: false });
      const [inRoot] = await auditEvents(ctx, ctx.root.org.id, { action: 'org.disabled', target_id: tenant.org.id });
      expect(inRoot).toMatchObject({ actor: ctx.root.key.id, details: { name: 'paused' } });

      const enabled = await as(rootToken).patch(`/v1/orgs/${tenant.org.id}`, { disabled: false }).expect(200);
      expect(enabled.body).toMatchObject({ disabled: false, disabled_at: null });
      await as(adminToken).get('/v1/apps').expect(200);
      await ctx.exchange(client).expect(200);
      expect(await auditEvents(ctx, tenant.org.id, { action: 'org.enabled' })).toHaveLength(1);
    });

    it('deletes an org with its apps and keys; its keys stop working, its audit events stay', async () => {
      const doomed = await ctx.createOrg('doomed');
      const client = await ctx.createClient(['tools:deploy'], { orgId: doomed.org.id });
      await ctx.db.updateTable('apps').set({ deleted_at: ctx.clock.now() }).where('id', '=', (await ctx.createApp(doomed.org.id, [])).id).execute();
      const adminToken = await ctx.tokenOf({ orgId: doomed.org.id, keyId: doomed.key.id, secret: doomed.secret });
      const eventsBefore = await auditEvents(ctx, doomed.org.id);

      const res = await as(rootToken).delete(`/v1/orgs/${doomed.org.id}`).expect(204);
      expect(res.text).toBe('');
      expect(await ctx.db.selectFrom('orgs').select('id').where('id', '=', doomed.org.id).execute()).toEqual([]);
      expect(await ctx.db.selectFrom('apps').select('id').where('org_id', '=', doomed.org.id).execute()).toEqual([]);
      expect(await ctx.db.selectFrom('api_keys').select('id').where('org_id', '=', doomed.org.id).execute()).toEqual([]);
      await ctx.exchange(client).expect(401);
      await as(adminToken).get('/v1/apps').expect(401);
      await as(rootToken).get(`/v1/orgs/${doomed.org.id}`).expect(404);

      const eventsAfter = await auditEvents(ctx, doomed.org.id);
      expect(eventsAfter.slice(-eventsBefore.length)).toEqual(eventsBefore);
      expect(eventsAfter[0]).toMatchObject({ action: 'org.deleted', actor: ctx.root.key.id, details: { name: 'doomed' } });
      const [inRoot] = await auditEvents(ctx, ctx.root.org.id, { action: 'org.deleted', target_id: doomed.org.id });
      expect(inRoot).toMatchObject({ actor: ctx.root.key.id, target_type: 'org' });
    });
  });
});

describe.each(DIALECTS)('new orgs and SCOPE_AUTH_ORG_DEFAULT_SCOPES on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { ...TEST_ENV, SCOPE_AUTH_ORG_DEFAULT_SCOPES: 'agents:view runtime:run' } });
    });
    afterAll(async () => ctx?.close());

    it('gives a new org the configured allowance, and the root org every scope', async () => {
      const rootToken = await ctx.tokenOf(ctx.rootCredentials);
      const res = await request(ctx.app).post('/v1/orgs').set('Authorization', `Bearer ${rootToken}`).send({ name: 'Limited' }).expect(201);
      expect(res.body.org).toMatchObject({ allowed_scopes: ['agents:view', 'runtime:run'], effective_allowed_scopes: ['agents:view', 'runtime:run', 'sessions:create'] });
      const root = await request(ctx.app).get(`/v1/orgs/${ctx.root.org.id}`).set('Authorization', `Bearer ${rootToken}`).expect(200);
      expect(root.body.allowed_scopes).toBeNull();
      const [created] = await auditEvents(ctx, res.body.org.id, { action: 'org.created' });
      expect(created!.details).toEqual({ name: 'Limited', allowed_scopes: ['agents:view', 'runtime:run'] });
    });
  });
});
