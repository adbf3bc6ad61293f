import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
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
      expect(org).toEqual({ id: expect.stringMatching(/^org_/), name: 'Acme', is_root: false, created_at: iso(ctx.clock.now()), created_by: ctx.root.key.id });
      expect(admin_app).toMatchObject({ org_id: org.id, name: 'admin', created_by: ctx.root.key.id });
      expect(admin_app.scopes).toEqual(['admin.apps:edit', 'admin.apps:full', 'admin.apps:view', 'admin.audit:view', 'tokens:introspect']);
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
  });
});
