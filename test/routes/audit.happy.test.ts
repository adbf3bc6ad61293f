import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

interface Event {
  id: string;
  org_id: string;
  at: string;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
}

describe.each(DIALECTS)('GET /v1/audit, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let orgId: string;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      // A fresh org of its own, so its log holds only what these tests do.
      orgId = (await ctx.createOrg('audited')).org.id;
      admin = await ctx.tokenFor(['admin.apps:full', 'admin.audit:view'], { orgId });
    });
    beforeEach(async () => {
      admin.token = await ctx.tokenOf(admin);
    });
    afterAll(async () => ctx?.close());

    const bearer = (r: request.Test) => r.set('Authorization', `Bearer ${admin.token}`);
    const audit = async (query = ''): Promise<{ data: Event[]; next_cursor: string | null }> =>
      (await bearer(request(ctx.app).get(`/v1/audit${query}`)).expect(200)).body;

    it('records every admin change with actor, ip, target and details, newest first', async () => {
      const app = (await bearer(request(ctx.app).post('/v1/apps')).send({ name: 'a', scopes: ['tools:deploy'] }).expect(201)).body;
      ctx.clock.advance(1000);
      await bearer(request(ctx.app).patch(`/v1/apps/${app.id}`)).send({ name: 'b' }).expect(200);
      ctx.clock.advance(1000);
      const key = (await bearer(request(ctx.app).post(`/v1/apps/${app.id}/keys`)).send({ name: 'k' }).expect(201)).body;
      ctx.clock.advance(1000);
      const rolled = (await bearer(request(ctx.app).post(`/v1/keys/${key.key.id}/roll`)).send({ grace_seconds: 60 }).expect(201)).body;
      ctx.clock.advance(1000);
      await bearer(request(ctx.app).post(`/v1/keys/${key.key.id}/revoke`)).send({ reason: 'rotated' }).expect(200);
      ctx.clock.advance(1000);
      await bearer(request(ctx.app).delete(`/v1/keys/${rolled.key.id}`)).expect(204);
      ctx.clock.advance(1000);
      await bearer(request(ctx.app).delete(`/v1/apps/${app.id}`)).expect(204);

      const { data } = await audit('?limit=7');
      expect(data.map((e) => [e.action, e.target_id])).toEqual([
        ['app.deleted', app.id],
        ['key.deleted', rolled.key.id],
        ['key.revoked', key.key.id],
        ['key.created', rolled.key.id],
        ['key.rolled', key.key.id],
        ['key.created', key.key.id],
        ['app.updated', app.id],
      ]);
      for (const event of data) {
        expect(event).toMatchObject({ org_id: orgId, actor: admin.keyId, ip: expect.stringMatching(/127\.0\.0\.1|::1/) });
        expect(event.id).toMatch(/^evt_[0-9A-Z]{26}$/);
        expect(event.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(event.target_type).toBe(event.action.split('.')[0]);
      }
      expect(data[0]!.details).toEqual({ name: 'b' });
      expect(data[1]!.details).toEqual({ app_id: app.id, name: 'k' });
      expect(data[2]!.details).toEqual({ app_id: app.id, name: 'k', reason: 'rotated' });
      expect(data[3]!.details).toEqual({ app_id: app.id, name: 'k', expires_at: null, rolled_from: key.key.id });
      expect(data[4]!.details).toEqual({
        app_id: app.id,
        name: 'k',
        new_key_id: rolled.key.id,
        grace_seconds: 60,
        expires_at: new Date(ctx.clock.now() - 3000 + 60_000).toISOString(),
      });
      expect(data[5]!.details).toEqual({ app_id: app.id, name: 'k', expires_at: null });
      expect(data[6]!.details).toEqual({ changes: { name: { from: 'a', to: 'b' } } });

      const body = JSON.stringify(data);
      expect(body).not.toContain(key.secret);
      expect(body).not.toContain(rolled.secret);
      expect(body).not.toContain('$argon2');
    });

    it('records each refused exchange with its real reason, while the caller sees one identical answer', async () => {
      const client = await ctx.createClient(['tools:deploy'], { orgId });
      const wrong = { ...client, secret: (await ctx.createClient(['tools:deploy'], { orgId })).secret };
      const unknownKey = { ...client, keyId: 'key_01J00000000000000000000000' };
      const bodies = new Set<string>();
      bodies.add((await ctx.exchange(wrong).expect(401)).text);
      bodies.add((await ctx.exchange(unknownKey).expect(401)).text);

      const revoked = await ctx.createClient(['tools:deploy'], { orgId });
      await bearer(request(ctx.app).post(`/v1/keys/${revoked.keyId}/revoke`)).send({}).expect(200);
      bodies.add((await ctx.exchange(revoked).expect(401)).text);

      const expiring = await ctx.createClient(['tools:deploy'], { orgId });
      await ctx.db.updateTable('api_keys').set({ expires_at: ctx.clock.now() }).where('id', '=', expiring.keyId).execute();
      bodies.add((await ctx.exchange(expiring).expect(401)).text);

      const orphan = await ctx.createClient(['tools:deploy'], { orgId });
      await bearer(request(ctx.app).delete(`/v1/apps/${orphan.appId}`)).expect(204);
      bodies.add((await ctx.exchange(orphan).expect(401)).text);
      expect(bodies.size).toBe(1);

      const reasons = async (keyId: string) =>
        (await audit(`?action=token.refused&target_id=${keyId}`)).data.map((e) => e.details['reason']);
      expect(await reasons(client.keyId)).toEqual(['wrong_secret']);
      expect(await reasons(unknownKey.keyId)).toEqual(['unknown_key']);
      expect(await reasons(revoked.keyId)).toEqual(['revoked']);
      expect(await reasons(expiring.keyId)).toEqual(['expired']);
      expect(await reasons(orphan.keyId)).toEqual(['app_deleted']);
      const [event] = (await audit(`?action=token.refused&target_id=${client.keyId}`)).data;
      expect(event).toMatchObject({ actor: 'anonymous', target_type: 'key', ip: expect.stringMatching(/127\.0\.0\.1|::1/) });
      expect(JSON.stringify(event)).not.toContain(wrong.secret);
    });

    it('records throttled exchanges', async () => {
      const client = await ctx.createClient(['tools:deploy'], { orgId });
      const wrong = { ...client, secret: (await ctx.createClient(['tools:deploy'], { orgId })).secret };
      let status = 401;
      for (let i = 0; i < 20 && status === 401; i++) status = (await ctx.exchange(wrong)).status;
      expect(status).toBe(429);
      const { data } = await audit(`?action=token.refused&target_id=${client.keyId}&limit=1`);
      expect(data[0]!.details).toMatchObject({ reason: 'throttled', retry_after_seconds: expect.any(Number) });
    });

    it('filters by action and by target, and pages newest first', async () => {
      const created = await audit('?action=key.created&limit=200');
      expect(created.data.length).toBeGreaterThan(0);
      expect(created.data.every((e) => e.action === 'key.created')).toBe(true);

      const all: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { data: Event[]; next_cursor: string | null } = await audit(`?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`);
        expect(page.data.length).toBeLessThanOrEqual(3);
        all.push(...page.data.map((e) => e.id));
        cursor = page.next_cursor;
      } while (cursor !== null);
      expect(all).toEqual([...all].sort().reverse());
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBe((await audit('?limit=200')).data.length);
    });

    it('shows only the caller’s org: its bootstrap events, and none of the root org', async () => {
      const { data } = await audit('?limit=200');
      expect(data.every((e) => e.org_id === orgId)).toBe(true);
      const oldest = data.slice(-3).map((e) => e.action).sort();
      expect(oldest).toEqual(['app.created', 'key.created', 'org.created']);
      expect(data.map((e) => e.target_id)).not.toContain(ctx.root.key.id);
    });
  });
});
