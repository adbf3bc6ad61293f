import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { auditEvents } from '../helpers/admin.js';
import { TEST_AUDIENCES } from '../helpers/catalog.js';

describe.each(DIALECTS)('/v1/apps, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, catalog: { audiences: [...TEST_AUDIENCES] } });
      admin = await ctx.tokenFor(['admin.apps:full', 'admin.audit:view']);
    });
    afterAll(async () => ctx?.close());

    const api = () => ({
      get: (path: string) => request(ctx.app).get(path).set('Authorization', `Bearer ${admin.token}`),
      post: (path: string, body: object) => request(ctx.app).post(path).set('Authorization', `Bearer ${admin.token}`).send(body),
      patch: (path: string, body: object) => request(ctx.app).patch(path).set('Authorization', `Bearer ${admin.token}`).send(body),
      delete: (path: string) => request(ctx.app).delete(path).set('Authorization', `Bearer ${admin.token}`),
    });

    it('creates an app from catalogue scopes and answers with the app, its scopes as granted and expanded', async () => {
      const res = await api()
        .post('/v1/apps', { name: 'billing worker', scopes: ['runtime:run', 'agents:edit'], description: 'Runs billing', audience: 'https://billing.example.com', token_ttl_seconds: 300 })
        .expect(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['location']).toBe(`/v1/apps/${res.body.id}`);
      const now = new Date(ctx.clock.now()).toISOString();
      expect(res.body).toEqual({
        id: expect.stringMatching(/^app_[0-9A-Z]{26}$/),
        org_id: admin.orgId,
        name: 'billing worker',
        description: 'Runs billing',
        scopes: ['agents:edit', 'runtime:run'],
        effective_scopes: ['agents:edit', 'agents:view', 'runtime:run', 'sessions:create'],
        audience: 'https://billing.example.com',
        token_ttl_seconds: 300,
        allowed_ips: null,
        created_at: now,
        created_by: admin.keyId,
        // The name of the key that created it, resolved when read.
        created_by_name: 'test key',
        updated_at: now,
      });
      expect((await api().get(`/v1/apps/${res.body.id}`).expect(200)).body).toEqual(res.body);
    });

    it('defaults description, audience and token lifetime, and de-duplicates scopes', async () => {
      const res = await api().post('/v1/apps', { name: 'plain', scopes: ['tools:deploy', 'tools:deploy'] }).expect(201);
      expect(res.body).toMatchObject({ description: '', audience: null, token_ttl_seconds: null, scopes: ['tools:deploy'] });
    });

    it('grants built-in admin scopes the caller holds itself', async () => {
      const res = await api().post('/v1/apps', { name: 'auditor', scopes: ['admin.apps:view', 'admin.audit:view'] }).expect(201);
      expect(res.body.effective_scopes).toEqual(['admin.apps:view', 'admin.audit:view']);
    });

    it('records app.created in the audit log with the actor, ip and what was granted', async () => {
      const res = await api().post('/v1/apps', { name: 'audited', scopes: ['documents:upload'] }).expect(201);
      const [event] = await auditEvents(ctx, admin.orgId, { target_id: res.body.id });
      expect(event).toEqual({
        id: expect.stringMatching(/^evt_/),
        org_id: admin.orgId,
        at: new Date(ctx.clock.now()).toISOString(),
        actor: admin.keyId,
        actor_name: 'test key',
        action: 'app.created',
        target_type: 'app',
        target_id: res.body.id,
        ip: expect.stringMatching(/127\.0\.0\.1|::1/),
        details: { name: 'audited', scopes: ['documents:upload'], description: '', audience: null, token_ttl_seconds: null },
      });
    });

    it('lists the apps of the org newest first, page by page with an opaque cursor', async () => {
      const names = ['page-a', 'page-b', 'page-c'];
      for (const name of names) {
        await api().post('/v1/apps', { name, scopes: [] }).expect(201);
        ctx.clock.advance(1000);
      }
      const first = await api().get('/v1/apps?limit=2').expect(200);
      expect(first.body.data.map((a: { name: string }) => a.name)).toEqual(['page-c', 'page-b']);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const second = await api().get(`/v1/apps?limit=2&cursor=${first.body.next_cursor}`).expect(200);
      expect(second.body.data[0].name).toBe('page-a');

      const all: string[] = [];
      let cursor: string | null = null;
      do {
        const res: request.Response = await api().get(`/v1/apps?limit=3${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
        all.push(...res.body.data.map((a: { id: string }) => a.id));
        cursor = res.body.next_cursor;
      } while (cursor !== null);
      expect(new Set(all).size).toBe(all.length);
      expect([...all].sort().reverse()).toEqual(all);
      // Everything in the org, including the bootstrap admin app and the caller's app.
      expect(all).toContain(ctx.root.adminApp.id);
      expect(all).toContain(admin.appId);
    });

    it('finds apps by a part of their name, in any case, with % and _ taken literally', async () => {
      for (const name of ['Search Target', 'search-target two', '100% sure', 'a_b']) await api().post('/v1/apps', { name, scopes: [] }).expect(201);
      const names = async (q: string) => (await api().get(`/v1/apps?name=${encodeURIComponent(q)}`).expect(200)).body.data.map((a: { name: string }) => a.name);
      expect(await names('SEARCH')).toEqual(['search-target two', 'Search Target']);
      expect(await names('%')).toEqual(['100% sure']);
      expect(await names('_')).toEqual(['a_b']);
    });

    it('renames an app and changes its scopes; every key of the app gets the new set at its next exchange', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      expect((await ctx.exchange(client).expect(200)).body.scope).toBe('tools:deploy');
      ctx.clock.advance(5000);
      const res = await api().patch(`/v1/apps/${client.appId}`, { name: 'renamed', scopes: ['agents:full'] }).expect(200);
      expect(res.body).toMatchObject({
        name: 'renamed',
        scopes: ['agents:full'],
        effective_scopes: ['agents:edit', 'agents:full', 'agents:view'],
        updated_at: new Date(ctx.clock.now()).toISOString(),
      });
      expect(res.body.created_at).not.toBe(res.body.updated_at);
      expect((await ctx.exchange(client).expect(200)).body.scope).toBe('agents:edit agents:full agents:view');

      const [event] = await auditEvents(ctx, admin.orgId, { target_id: client.appId });
      expect(event).toMatchObject({
        action: 'app.updated',
        actor: admin.keyId,
        details: { changes: { name: { from: 'test app', to: 'renamed' }, scopes: { from: ['tools:deploy'], to: ['agents:full'] } } },
      });
    });

    it('sets and clears the audience and token lifetime', async () => {
      const created = await api().post('/v1/apps', { name: 'aud', scopes: ['tools:deploy'] }).expect(201);
      const set = await api().patch(`/v1/apps/${created.body.id}`, { audience: 'https://api.example.com', token_ttl_seconds: 120, description: 'd' }).expect(200);
      expect(set.body).toMatchObject({ audience: 'https://api.example.com', token_ttl_seconds: 120, description: 'd' });
      const cleared = await api().patch(`/v1/apps/${created.body.id}`, { audience: null, token_ttl_seconds: null }).expect(200);
      expect(cleared.body).toMatchObject({ audience: null, token_ttl_seconds: null, description: 'd' });
    });

    it('keeps an app whose audience the catalogue no longer lists working, and lets it be edited without touching the audience', async () => {
      const legacy = await ctx.createClient(['tools:deploy'], { app: { audience: 'https://retired.example' } });
      const token = await ctx.tokenOf(legacy);
      expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).aud).toBe('https://retired.example');
      const renamed = await api().patch(`/v1/apps/${legacy.appId}`, { name: 'legacy', scopes: ['tools:deploy', 'tools:import'] }).expect(200);
      expect(renamed.body).toMatchObject({ name: 'legacy', audience: 'https://retired.example' });
      const moved = await api().patch(`/v1/apps/${legacy.appId}`, { audience: 'https://billing.example.com' }).expect(200);
      expect(moved.body.audience).toBe('https://billing.example.com');
    });

    it('accepts the default audience by name as well as null', async () => {
      const res = await api().post('/v1/apps', { name: 'default aud', scopes: [], audience: ctx.deps.config.audience }).expect(201);
      expect(res.body.audience).toBe('http://scope-auth.test');
    });

    it('answers a PATCH that changes nothing with the app, without an audit event', async () => {
      const created = await api().post('/v1/apps', { name: 'same', scopes: ['tools:deploy'] }).expect(201);
      ctx.clock.advance(1000);
      const res = await api().patch(`/v1/apps/${created.body.id}`, { name: 'same', scopes: ['tools:deploy'] }).expect(200);
      expect(res.body).toEqual(created.body);
      expect((await auditEvents(ctx, admin.orgId, { target_id: created.body.id })).map((e) => e.action)).toEqual(['app.created']);
    });

    it('deletes an app: 204, then 404 for the app and its keys, and its keys stop working at once', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const token = await ctx.tokenOf(client);
      await api().delete(`/v1/apps/${client.appId}`).expect(204);
      await api().get(`/v1/apps/${client.appId}`).expect(404);
      await api().get(`/v1/apps/${client.appId}/keys`).expect(404);
      await api().get(`/v1/keys/${client.keyId}`).expect(404);
      const listed = await api().get('/v1/keys?limit=200').expect(200);
      expect(listed.body.data.map((k: { id: string }) => k.id)).not.toContain(client.keyId);
      const apps = await api().get('/v1/apps?limit=200').expect(200);
      expect(apps.body.data.map((a: { id: string }) => a.id)).not.toContain(client.appId);
      await ctx.exchange(client).expect(401);
      // Tokens already issued to the app's keys stop working on this server too.
      await request(ctx.app).get('/v1/scopes').set('Authorization', `Bearer ${token}`).expect(401);

      const [refused, deleted] = await auditEvents(ctx, admin.orgId, { target_id: undefined, limit: 2 });
      expect(refused).toMatchObject({ action: 'token.refused', target_id: client.keyId, details: { reason: 'app_deleted' } });
      expect(deleted).toMatchObject({ action: 'app.deleted', target_id: client.appId, actor: admin.keyId, details: { name: 'test app' } });
    });

    it('lists the keys of one app', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const second = await ctx.createKey(client.orgId, client.appId, { name: 'second' });
      await ctx.createClient(['tools:deploy']);
      const res = await api().get(`/v1/apps/${client.appId}/keys`).expect(200);
      expect(res.body.data.map((k: { id: string }) => k.id)).toEqual([second.key.id, client.keyId]);
      expect(res.body.next_cursor).toBeNull();
    });
  });
});
