import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { open } from '../../src/domain/kek.js';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, session } from '../helpers/people.js';
import { clearWebhooks, deliveryRows, LOOPBACK_ENV, testDeliverer } from '../helpers/webhooks.js';

const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/;
const URL_A = 'https://hooks.example.com/scope-auth';

describe.each(DIALECTS)('/v1/webhooks, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: LOOPBACK_ENV });
      admin = await ctx.tokenFor(['admin.webhooks:full', 'admin.apps:full', 'admin.audit:view']);
    });
    afterAll(async () => ctx?.close());
    beforeEach(async () => {
      admin.token = await ctx.tokenOf(admin);
      await clearWebhooks(ctx);
    });

    const auth = (req: request.Test) => req.set('Authorization', `Bearer ${admin.token}`);
    const get = (path: string) => auth(request(ctx.app).get(path));
    const post = (path: string, body?: object) => auth(request(ctx.app).post(path)).send(body);
    const patch = (path: string, body: object) => auth(request(ctx.app).patch(path)).send(body);
    const iso = (ms: number) => new Date(ms).toISOString();

    it('registers a webhook: 201 with the webhook and its signing secret once, not cacheable, stored only sealed', async () => {
      const res = await post('/v1/webhooks', { url: URL_A, events: ['key.revoked', 'key.created'], description: 'Security alerts' }).expect(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['location']).toBe(`/v1/webhooks/${res.body.webhook.id}`);
      expect(res.body.secret).toMatch(SECRET);
      expect(Buffer.from(res.body.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
      expect(res.body.webhook).toEqual({
        id: expect.stringMatching(/^whk_[0-9A-Z]{26}$/),
        org_id: admin.orgId,
        url: URL_A,
        // In the catalogue's order.
        events: ['key.created', 'key.revoked'],
        description: 'Security alerts',
        enabled: true,
        created_at: iso(ctx.clock.now()),
        created_by: admin.keyId,
        created_by_name: 'test key',
        updated_at: iso(ctx.clock.now()),
        disabled_at: null,
      });
      const [row] = await ctx.db.selectFrom('webhooks').selectAll().where('id', '=', res.body.webhook.id).execute();
      expect(row!.secret_encrypted).not.toContain(res.body.secret.slice(6, 20));
      expect(open(ctx.kek, row!.secret_encrypted, `webhook ${row!.id}`)).toBe(res.body.secret);
      // Never shown again: not by a read, a list, a change, nor the audit log.
      const texts = [
        (await get(`/v1/webhooks/${res.body.webhook.id}`).expect(200)).text,
        (await get('/v1/webhooks').expect(200)).text,
        (await patch(`/v1/webhooks/${res.body.webhook.id}`, { description: 'x' }).expect(200)).text,
        (await get('/v1/audit?limit=200').expect(200)).text,
      ];
      for (const text of texts) {
        expect(text).not.toContain(res.body.secret);
        expect(text).not.toContain('secret_encrypted');
        expect(text).not.toContain(row!.secret_encrypted);
      }
    });

    it('records webhook.created, .updated and .deleted in the audit log, with what changed and never the secret', async () => {
      const created = await post('/v1/webhooks', { url: URL_A, events: ['key.revoked'] }).expect(201);
      const id = created.body.webhook.id as string;
      ctx.clock.advance(1000);
      await patch(`/v1/webhooks/${id}`, { events: ['key.revoked', 'key.expiring'], enabled: false }).expect(200);
      await post(`/v1/webhooks/${id}/rotate-secret`, {}).expect(200);
      await auth(request(ctx.app).delete(`/v1/webhooks/${id}`)).expect(204);
      const events = await auditEvents(ctx, admin.orgId, { target_id: id });
      expect(events.map((e) => [e.action, e.actor, e.target_type, e.details])).toEqual([
        ['webhook.deleted', admin.keyId, 'webhook', { url: URL_A, events: ['key.revoked', 'key.expiring'] }],
        ['webhook.updated', admin.keyId, 'webhook', { secret_rotated: true }],
        ['webhook.updated', admin.keyId, 'webhook', { changes: { events: { from: ['key.revoked'], to: ['key.revoked', 'key.expiring'] }, enabled: { from: true, to: false } } }],
        ['webhook.created', admin.keyId, 'webhook', { url: URL_A, events: ['key.revoked'], description: '' }],
      ]);
      expect(JSON.stringify(events)).not.toContain(created.body.secret);
    });

    it('lists the org’s webhooks newest first, a page at a time', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await post('/v1/webhooks', { url: `${URL_A}/${i}`, events: ['key.created'] }).expect(201)).body.webhook.id);
      const first = await get('/v1/webhooks?limit=2').expect(200);
      expect(first.body.data.map((w: { id: string }) => w.id)).toEqual([ids[2], ids[1]]);
      expect(first.body.next_cursor).toEqual(expect.any(String));
      const second = await get(`/v1/webhooks?limit=2&cursor=${first.body.next_cursor}`).expect(200);
      expect(second.body).toEqual({ data: [expect.objectContaining({ id: ids[0], url: `${URL_A}/0` })], next_cursor: null });
    });

    it('changes the URL, events, description and enabled; the same values again change nothing', async () => {
      const id = (await post('/v1/webhooks', { url: URL_A, events: ['key.created'] }).expect(201)).body.webhook.id as string;
      ctx.clock.advance(5000);
      const changed = await patch(`/v1/webhooks/${id}`, { url: 'https://other.example.com/h', events: ['org.updated', 'app.updated'], description: 'new', enabled: false }).expect(200);
      expect(changed.body).toMatchObject({ url: 'https://other.example.com/h', events: ['app.updated', 'org.updated'], description: 'new', enabled: false, disabled_at: iso(ctx.clock.now()), updated_at: iso(ctx.clock.now()) });
      ctx.clock.advance(5000);
      const again = await patch(`/v1/webhooks/${id}`, { url: 'https://other.example.com/h', enabled: false }).expect(200);
      expect(again.body).toEqual(changed.body);
      const enabled = await patch(`/v1/webhooks/${id}`, { enabled: true }).expect(200);
      expect(enabled.body).toMatchObject({ enabled: true, disabled_at: null });
      expect((await get(`/v1/webhooks/${id}`).expect(200)).body).toEqual(enabled.body);
      expect(await auditEvents(ctx, admin.orgId, { target_id: id, action: 'webhook.updated' })).toHaveLength(2);
    });

    it('rotates the secret: a new one, answered once', async () => {
      const created = await post('/v1/webhooks', { url: URL_A, events: ['key.created'] }).expect(201);
      const rotated = await post(`/v1/webhooks/${created.body.webhook.id}/rotate-secret`).expect(200);
      expect(rotated.body.secret).toMatch(SECRET);
      expect(rotated.body.secret).not.toBe(created.body.secret);
      expect(rotated.body.webhook).toMatchObject({ id: created.body.webhook.id, url: URL_A });
      const [row] = await ctx.db.selectFrom('webhooks').selectAll().where('id', '=', created.body.webhook.id).execute();
      expect(open(ctx.kek, row!.secret_encrypted, `webhook ${row!.id}`)).toBe(rotated.body.secret);
    });

    it('deletes a webhook with its deliveries: 204, then 404', async () => {
      const id = (await post('/v1/webhooks', { url: URL_A, events: ['key.created'] }).expect(201)).body.webhook.id as string;
      await post(`/v1/apps/${admin.appId}/keys`, { name: 'makes an event' }).expect(201);
      expect(await deliveryRows(ctx, id)).toHaveLength(1);
      await auth(request(ctx.app).delete(`/v1/webhooks/${id}`)).expect(204);
      await get(`/v1/webhooks/${id}`).expect(404);
      expect(await deliveryRows(ctx, id)).toEqual([]);
    });

    it('lists a webhook’s deliveries newest first, with their status and last answer, filtered by status', async () => {
      const id = (await post('/v1/webhooks', { url: 'http://127.0.0.1:9/never', events: ['key.created', 'key.revoked'] }).expect(201)).body.webhook.id as string;
      const made = await post(`/v1/apps/${admin.appId}/keys`, { name: 'one' }).expect(201);
      ctx.clock.advance(1000);
      await post(`/v1/keys/${made.body.key.id}/revoke`, {}).expect(200);
      const res = await get(`/v1/webhooks/${id}/deliveries`).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.next_cursor).toBeNull();
      expect(res.body.data).toEqual([
        {
          id: expect.stringMatching(/^dlv_[0-9A-Z]{26}$/),
          webhook_id: id,
          event_id: expect.stringMatching(/^evt_/),
          event_type: 'key.revoked',
          status: 'pending',
          attempts: 0,
          next_attempt_at: iso(ctx.clock.now()),
          last_attempt_at: null,
          last_status_code: null,
          last_response: null,
          last_error: null,
          created_at: iso(ctx.clock.now()),
          delivered_at: null,
        },
        expect.objectContaining({ event_type: 'key.created', created_at: iso(ctx.clock.now() - 1000) }),
      ]);
      // Port 9 (discard) refuses: the attempt's error is listed, and the delivery waits for its next attempt.
      await testDeliverer(ctx).deliverDue();
      const after = await get(`/v1/webhooks/${id}/deliveries?status=pending&limit=1`).expect(200);
      expect(after.body.data).toEqual([expect.objectContaining({ status: 'pending', attempts: 1, last_error: expect.stringContaining('ECONNREFUSED'), last_attempt_at: iso(ctx.clock.now()) })]);
      expect(after.body.next_cursor).toEqual(expect.any(String));
      expect((await get(`/v1/webhooks/${id}/deliveries?status=delivered`).expect(200)).body.data).toEqual([]);
    });

    it('works the same for a signed-in owner; viewers and editors read webhooks but do not change them', async () => {
      const owner = await createPerson(ctx, { role: 'owner' });
      const created = await session(ctx.app, owner).post('/v1/webhooks', { url: URL_A, events: ['key.revoked'] }).expect(201);
      expect(created.body.webhook).toMatchObject({ created_by: owner.userId, created_by_name: 'Ada Lovelace' });
      for (const role of ['viewer', 'editor'] as const) {
        const person = await createPerson(ctx, { role });
        await session(ctx.app, person).get(`/v1/webhooks/${created.body.webhook.id}`).expect(200);
        await session(ctx.app, person).get(`/v1/webhooks/${created.body.webhook.id}/deliveries`).expect(200);
        const refused = await session(ctx.app, person).patch(`/v1/webhooks/${created.body.webhook.id}`, { enabled: false }).expect(403);
        expect(refused.body).toMatchObject({ code: 'insufficient_scope', required_scope: 'admin.webhooks:full' });
      }
    });
  });
});
