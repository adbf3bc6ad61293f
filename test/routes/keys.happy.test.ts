import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

const DAY = 86_400_000;
const SECRET = /^secret_[0-9A-Za-z]{46}$/;

describe.each(DIALECTS)('/v1/keys and /v1/apps/{app_id}/keys, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      admin = await ctx.tokenFor(['admin.apps:full', 'admin.audit:view']);
    });
    afterAll(async () => ctx?.close());
    // Tests move the clock by hours or days: a fresh token for each.
    beforeEach(async () => {
      admin.token = await ctx.tokenOf(admin);
    });

    const auth = (req: request.Test) => req.set('Authorization', `Bearer ${admin.token}`);
    const get = (path: string) => auth(request(ctx.app).get(path));
    const post = (path: string, body?: object) => auth(request(ctx.app).post(path)).send(body);
    const iso = (ms: number) => new Date(ms).toISOString();

    async function newApp(scopes = ['tools:deploy']) {
      return (await post('/v1/apps', { name: 'svc', scopes }).expect(201)).body.id as string;
    }

    it('creates a key: 201 with the key and its secret once, not cacheable', async () => {
      const appId = await newApp();
      const res = await post(`/v1/apps/${appId}/keys`, { name: 'ci deploy' }).expect(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['location']).toBe(`/v1/keys/${res.body.key.id}`);
      expect(res.body.secret).toMatch(SECRET);
      expect(res.body.key).toEqual({
        id: expect.stringMatching(/^key_[0-9A-Z]{26}$/),
        org_id: admin.orgId,
        app_id: appId,
        name: 'ci deploy',
        status: 'active',
        secret_hint: res.body.secret.slice(-4),
        created_at: iso(ctx.clock.now()),
        created_by: admin.keyId,
        created_by_name: 'test key',
        expires_at: null,
        revoked_at: null,
        revoked_by: null,
        revoked_by_name: null,
        revoke_reason: null,
        last_used_at: null,
        last_used_ip: null,
        use_count: 0,
        scopes: null,
        allowed_ips: null,
      });
      // The secret works, and no other endpoint ever shows it (or its hash) again.
      await ctx.exchange({ orgId: admin.orgId, keyId: res.body.key.id, secret: res.body.secret }).expect(200);
      const read = await get(`/v1/keys/${res.body.key.id}`).expect(200);
      const list = await get('/v1/keys?limit=200').expect(200);
      const audit = await auth(request(ctx.app).get('/v1/audit?limit=200')).expect(200);
      for (const text of [read.text, list.text, audit.text]) {
        expect(text).not.toContain(res.body.secret);
        expect(text).not.toContain('argon2');
        expect(text).not.toContain('secret_hash');
      }
      await ctx.deps.lastUsed.flush();
      const used = await get(`/v1/keys/${res.body.key.id}`).expect(200);
      expect(used.body).toEqual({ ...res.body.key, last_used_at: iso(ctx.clock.now()), last_used_ip: expect.any(String), use_count: 1 });
    });

    it('records key.created in the audit log without the secret', async () => {
      const appId = await newApp();
      const res = await post(`/v1/apps/${appId}/keys`, { name: 'audited', expires_at: iso(ctx.clock.now() + DAY) }).expect(201);
      const [event] = await auditEvents(ctx, admin.orgId, { target_id: res.body.key.id });
      expect(event).toMatchObject({
        action: 'key.created',
        actor: admin.keyId,
        target_type: 'key',
        target_id: res.body.key.id,
        ip: expect.any(String),
        details: { app_id: appId, name: 'audited', expires_at: iso(ctx.clock.now() + DAY) },
      });
      expect(JSON.stringify(event)).not.toContain(res.body.secret);
    });

    it('gives a key an expiry; it reads expired once the time passes and stops exchanging', async () => {
      const appId = await newApp();
      const expiresAt = ctx.clock.now() + 60_000;
      const res = await post(`/v1/apps/${appId}/keys`, { name: 'short', expires_at: new Date(expiresAt).toISOString().replace('Z', '+00:00') }).expect(201);
      expect(res.body.key).toMatchObject({ status: 'active', expires_at: iso(expiresAt) });
      const creds = { orgId: admin.orgId, keyId: res.body.key.id, secret: res.body.secret };
      await ctx.exchange(creds).expect(200);
      ctx.clock.advance(60_000);
      expect((await get(`/v1/keys/${res.body.key.id}`).expect(200)).body.status).toBe('expired');
      await ctx.exchange(creds).expect(401);
    });

    it('accepts expiries written with an offset and stores them in UTC', async () => {
      const appId = await newApp();
      const at = ctx.clock.now() + 3 * DAY;
      const local = new Date(at + 2 * 3600_000).toISOString().replace('Z', '+02:00');
      const res = await post(`/v1/apps/${appId}/keys`, { name: 'tz', expires_at: local }).expect(201);
      expect(res.body.key.expires_at).toBe(iso(at));
    });

    it('shows last use: when, from where, how often', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await ctx.exchange(client).expect(200);
      ctx.clock.advance(1000);
      await ctx.exchange(client).expect(200);
      await ctx.deps.lastUsed.flush();
      const res = await get(`/v1/keys/${client.keyId}`).expect(200);
      expect(res.body).toMatchObject({ last_used_at: iso(ctx.clock.now()), last_used_ip: expect.stringMatching(/127\.0\.0\.1|::1/), use_count: 2 });
    });

    it('revokes a key: 200 with status revoked, who, when and why; the key stops exchanging', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const res = await post(`/v1/keys/${client.keyId}/revoke`, { reason: 'leaked in a CI log' }).expect(200);
      expect(res.body).toMatchObject({
        id: client.keyId,
        status: 'revoked',
        revoked_at: iso(ctx.clock.now()),
        revoked_by: admin.keyId,
        revoke_reason: 'leaked in a CI log',
      });
      await ctx.exchange(client).expect(401);
      // A revoked key stays listed.
      const listed = await get('/v1/keys?status=revoked&limit=200').expect(200);
      expect(listed.body.data.map((k: { id: string }) => k.id)).toContain(client.keyId);

      const [refused, revoked] = await auditEvents(ctx, admin.orgId, { target_id: client.keyId });
      expect(refused).toMatchObject({ action: 'token.refused', details: { reason: 'revoked' } });
      expect(revoked).toMatchObject({
        action: 'key.revoked',
        actor: admin.keyId,
        target_type: 'key',
        details: { app_id: client.appId, name: 'test key', reason: 'leaked in a CI log' },
      });
    });

    it('revokes idempotently: a second revoke keeps the first one’s time, actor and reason and audits nothing', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const first = await post(`/v1/keys/${client.keyId}/revoke`, { reason: 'first' }).expect(200);
      ctx.clock.advance(5000);
      const other = await ctx.tokenFor(['admin.apps:edit']);
      const second = await request(ctx.app)
        .post(`/v1/keys/${client.keyId}/revoke`)
        .set('Authorization', `Bearer ${other.token}`)
        .send({ reason: 'second' })
        .expect(200);
      expect(second.body).toEqual(first.body);
      expect((await auditEvents(ctx, admin.orgId, { target_id: client.keyId, action: 'key.revoked' })).length).toBe(1);
    });

    it('revokes without a body and without a reason', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const res = await auth(request(ctx.app).post(`/v1/keys/${client.keyId}/revoke`)).expect(200);
      expect(res.body).toMatchObject({ status: 'revoked', revoke_reason: null });
    });

    it('rolls a key: a new key of the same app and name now, the old one expiring after the grace period', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const res = await post(`/v1/keys/${client.keyId}/roll`, { grace_seconds: 3600 }).expect(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.secret).toMatch(SECRET);
      expect(res.body.key).toMatchObject({ app_id: client.appId, name: 'test key', status: 'active', created_by: admin.keyId, expires_at: null });
      expect(res.body.key.id).not.toBe(client.keyId);
      const old = await get(`/v1/keys/${client.keyId}`).expect(200);
      expect(old.body).toMatchObject({ status: 'active', expires_at: iso(ctx.clock.now() + 3600_000) });

      const fresh = { orgId: client.orgId, keyId: res.body.key.id, secret: res.body.secret };
      await ctx.exchange(client).expect(200);
      await ctx.exchange(fresh).expect(200);
      ctx.clock.advance(3600_000);
      admin.token = await ctx.tokenOf(admin);
      await ctx.exchange(client).expect(401);
      await ctx.exchange(fresh).expect(200);
      expect((await get(`/v1/keys/${client.keyId}`).expect(200)).body.status).toBe('expired');

      const events = await auditEvents(ctx, admin.orgId, { action: undefined, limit: 200 });
      const rolled = events.find((e) => e.action === 'key.rolled' && e.target_id === client.keyId);
      const created = events.find((e) => e.action === 'key.created' && e.target_id === res.body.key.id);
      expect(rolled).toMatchObject({
        actor: admin.keyId,
        details: { app_id: client.appId, name: 'test key', new_key_id: res.body.key.id, grace_seconds: 3600, expires_at: old.body.expires_at },
      });
      expect(created).toMatchObject({ actor: admin.keyId, details: { app_id: client.appId, rolled_from: client.keyId } });
      expect(JSON.stringify(events)).not.toContain(res.body.secret);
    });

    it('rolls with no grace: the old key stops at once', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await post(`/v1/keys/${client.keyId}/roll`, { grace_seconds: 0 }).expect(201);
      await ctx.exchange(client).expect(401);
      expect((await get(`/v1/keys/${client.keyId}`).expect(200)).body.status).toBe('expired');
    });

    it('never extends an old key’s expiry when rolling, and keeps its lifetime for the new key', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const created = await post(`/v1/apps/${client.appId}/keys`, { name: 'monthly', expires_at: iso(ctx.clock.now() + 30 * DAY) }).expect(201);
      ctx.clock.advance(29 * DAY);
      admin.token = await ctx.tokenOf(admin);
      const res = await post(`/v1/keys/${created.body.key.id}/roll`, { grace_seconds: 7 * 86_400 }).expect(201);
      expect((await get(`/v1/keys/${created.body.key.id}`).expect(200)).body.expires_at).toBe(iso(ctx.clock.now() + DAY));
      expect(res.body.key.expires_at).toBe(iso(ctx.clock.now() + 30 * DAY));
    });

    it('deletes a key for good: 204, then 404, and its exchange fails as an unknown key', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await auth(request(ctx.app).delete(`/v1/keys/${client.keyId}`)).expect(204);
      await get(`/v1/keys/${client.keyId}`).expect(404);
      await auth(request(ctx.app).delete(`/v1/keys/${client.keyId}`)).expect(404);
      await ctx.exchange(client).expect(401);
      const [refused, deleted] = await auditEvents(ctx, admin.orgId, { target_id: client.keyId });
      expect(refused).toMatchObject({ action: 'token.refused', details: { reason: 'unknown_key' } });
      expect(deleted).toMatchObject({ action: 'key.deleted', actor: admin.keyId, details: { app_id: client.appId, name: 'test key' } });
    });

    describe('listing', () => {
      let appId: string;
      const ids: Record<string, string> = {};
      beforeAll(async () => {
        // A fresh org, so the list holds exactly what this block creates.
        const org = await ctx.createOrg('listing');
        admin = { ...(await ctx.tokenFor(['admin.apps:full'], { orgId: org.org.id })) };
        ids['org-admin'] = org.key.id;
        appId = await newApp();
        const otherApp = await newApp();
        const mk = async (name: string, app = appId, extra: object = {}) => {
          const res = await post(`/v1/apps/${app}/keys`, { name, ...extra }).expect(201);
          ids[name] = res.body.key.id;
          ctx.clock.advance(1000);
          return { orgId: org.org.id, keyId: res.body.key.id as string, secret: res.body.secret as string };
        };
        const used = await mk('used');
        await mk('idle');
        await mk('revoked');
        await mk('expiring', appId, { expires_at: iso(ctx.clock.now() + DAY) });
        await mk('other-app', otherApp);
        await post(`/v1/keys/${ids.revoked}/revoke`, {}).expect(200);
        ctx.clock.advance(100 * DAY);
        await ctx.exchange(used).expect(200);
        await ctx.deps.lastUsed.flush();
      });

      // The caller's own key is listed too, but its last use moves with every test's fresh token.
      const names = (res: request.Response) =>
        res.body.data
          .filter((k: { id: string }) => k.id !== admin.keyId)
          .map((k: { id: string }) => Object.keys(ids).find((n) => ids[n] === k.id) ?? k.id);

      it('lists every key of the org newest first', async () => {
        const res = await get('/v1/keys').expect(200);
        expect(names(res)).toEqual(['other-app', 'expiring', 'revoked', 'idle', 'used', 'org-admin']);
        expect(res.body.next_cursor).toBeNull();
      });

      it('filters by status, computed at read time', async () => {
        expect(names(await get('/v1/keys?status=revoked').expect(200))).toEqual(['revoked']);
        expect(names(await get('/v1/keys?status=expired').expect(200))).toEqual(['expiring']);
        expect(names(await get('/v1/keys?status=active').expect(200))).toEqual(['other-app', 'idle', 'used', 'org-admin']);
      });

      it('filters by app', async () => {
        expect(names(await get(`/v1/keys?app_id=${appId}`).expect(200))).toEqual(['expiring', 'revoked', 'idle', 'used']);
        expect(names(await get(`/v1/apps/${appId}/keys?status=active`).expect(200))).toEqual(['idle', 'used']);
      });

      it('finds keys unused for N days, counting never-used keys from their creation', async () => {
        expect(names(await get('/v1/keys?unused_days=90').expect(200))).toEqual(['other-app', 'expiring', 'revoked', 'idle', 'org-admin']);
        expect(names(await get('/v1/keys?unused_days=90&status=active').expect(200))).toEqual(['other-app', 'idle', 'org-admin']);
        expect(names(await get('/v1/keys?unused_days=101').expect(200))).toEqual([]);
      });

      it('pages with limit and cursor without skipping or repeating', async () => {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const res: request.Response = await get(`/v1/keys?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`).expect(200);
          expect(res.body.data.length).toBeLessThanOrEqual(2);
          seen.push(...names(res));
          cursor = res.body.next_cursor;
          pages++;
        } while (cursor !== null);
        expect(pages).toBe(4);
        expect(seen).toEqual(['other-app', 'expiring', 'revoked', 'idle', 'used', 'org-admin']);
      });
    });
  });
});
