// Webhook events enter the outbox with the audit event of the change, in its transaction:
// one delivery per enabled webhook of the org that wants the type, none for a change that
// rolls back, and no extra query for an audit event that is not a webhook event.
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordAudit } from '../../src/domain/audit.js';
import { REFUSED_ACTION } from '../../src/domain/exchange.js';
import { isWebhookEvent, WEBHOOK_EVENT_TYPES } from '../../src/domain/webhook-events.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { QueryCounter } from '../helpers/query-counter.js';
import { clearWebhooks, deliveryRows, registerWebhook } from '../helpers/webhooks.js';

describe('the webhook event types', () => {
  it('are the key and app events, and no other audit action', () => {
    expect(WEBHOOK_EVENT_TYPES).toEqual(['key.created', 'key.revoked', 'key.rolled', 'key.expiring', 'key.expired', 'app.updated', 'org.updated']);
    for (const action of ['token.refused', 'session.refused', 'key.deleted', 'app.created', 'webhook.created', 'user.invited']) expect(isWebhookEvent(action)).toBe(false);
  });
});

describe.each(DIALECTS)('webhook events on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      admin = await ctx.tokenFor(['admin.webhooks:full', 'admin.apps:full', 'admin.orgs:full', 'admin.audit:view', 'admin.users:full', 'tokens:introspect']);
    });
    afterAll(async () => ctx?.close());
    beforeEach(async () => {
      admin.token = await ctx.tokenOf(admin);
      await clearWebhooks(ctx);
    });
    const auth = (req: request.Test) => req.set('Authorization', `Bearer ${admin.token}`);
    const hook = (events: string[]) => registerWebhook(ctx, admin.token, { url: 'https://hooks.example.com/in', events });
    const payloadsOf = async (webhookId: string) => (await deliveryRows(ctx, webhookId)).map((row) => ({ type: row.event_type, ...(JSON.parse(row.payload) as object) }));

    it('enqueues key.created, key.rolled, key.revoked, app.updated and org.updated as the API makes them, with what the audit event says', async () => {
      const { webhook } = await hook([...WEBHOOK_EVENT_TYPES]);
      const app = (await auth(request(ctx.app).post('/v1/apps')).send({ name: 'svc', scopes: ['tools:deploy'] }).expect(201)).body;
      const key = (await auth(request(ctx.app).post(`/v1/apps/${app.id}/keys`)).send({ name: 'ci' }).expect(201)).body;
      const rolled = (await auth(request(ctx.app).post(`/v1/keys/${key.key.id}/roll`)).send({ grace_seconds: 60 }).expect(201)).body;
      await auth(request(ctx.app).post(`/v1/keys/${rolled.key.id}/revoke`)).send({ reason: 'done' }).expect(200);
      await auth(request(ctx.app).patch(`/v1/apps/${app.id}`)).send({ name: 'svc 2' }).expect(200);
      await auth(request(ctx.app).patch(`/v1/orgs/${admin.orgId}`)).send({ require_mfa: true }).expect(200);
      await auth(request(ctx.app).patch(`/v1/orgs/${admin.orgId}`)).send({ require_mfa: false }).expect(200);
      const at = new Date(ctx.clock.now()).toISOString();
      const base = { org_id: admin.orgId, actor: admin.keyId };
      expect(await payloadsOf(webhook.id)).toEqual([
        { type: 'key.created', timestamp: at, data: { ...base, object: 'key', id: key.key.id, app_id: app.id, name: 'ci', expires_at: null } },
        { type: 'key.rolled', timestamp: at, data: { ...base, object: 'key', id: key.key.id, app_id: app.id, name: 'ci', new_key_id: rolled.key.id, grace_seconds: 60, expires_at: expect.any(String) } },
        { type: 'key.created', timestamp: at, data: { ...base, object: 'key', id: rolled.key.id, app_id: app.id, name: 'ci', expires_at: null, rolled_from: key.key.id } },
        { type: 'key.revoked', timestamp: at, data: { ...base, object: 'key', id: rolled.key.id, app_id: app.id, name: 'ci', reason: 'done' } },
        { type: 'app.updated', timestamp: at, data: { ...base, object: 'app', id: app.id, changes: { name: { from: 'svc', to: 'svc 2' } } } },
        { type: 'org.updated', timestamp: at, data: expect.objectContaining({ ...base, object: 'org', id: admin.orgId }) },
        { type: 'org.updated', timestamp: at, data: expect.objectContaining({ ...base, object: 'org', id: admin.orgId }) },
      ]);
      for (const row of await deliveryRows(ctx, webhook.id)) {
        expect(row.payload).not.toContain(key.secret);
        expect(row.payload).not.toContain(rolled.secret);
      }
    });

    it('enqueues only for enabled webhooks that want the type, one delivery each, all with the audit event’s id', async () => {
      const wants = await hook(['key.revoked']);
      const also = await hook(['key.revoked', 'key.created']);
      const other = await hook(['key.created']);
      const off = await hook(['key.revoked']);
      await auth(request(ctx.app).patch(`/v1/webhooks/${off.webhook.id}`)).send({ enabled: false }).expect(200);
      const client = await ctx.createClient(['tools:deploy']);
      await auth(request(ctx.app).post(`/v1/keys/${client.keyId}/revoke`)).send({}).expect(200);
      const [a] = await deliveryRows(ctx, wants.webhook.id);
      const [b] = await deliveryRows(ctx, also.webhook.id);
      expect(await deliveryRows(ctx, other.webhook.id)).toEqual([]);
      expect(await deliveryRows(ctx, off.webhook.id)).toEqual([]);
      const [event] = await ctx.db.selectFrom('audit_events').select('id').where('action', '=', 'key.revoked').where('target_id', '=', client.keyId).execute();
      expect([a!.event_id, b!.event_id]).toEqual([event!.id, event!.id]);
      expect(a!.id).not.toBe(b!.id);
      expect(a).toMatchObject({ status: 'pending', attempts: 0, next_attempt_at: ctx.clock.now(), created_at: ctx.clock.now(), org_id: admin.orgId });
    });

    it('enqueues nothing for a change that rolls back: the delivery is part of the change’s transaction', async () => {
      const { webhook } = await hook(['key.revoked', 'key.rolled', 'key.created']);
      await expect(
        ctx.db.transaction().execute(async (trx) => {
          await recordAudit(trx, ctx.clock, { orgId: admin.orgId, actor: 'system', action: 'key.revoked', targetType: 'key', targetId: 'key_01JD0000000000000000000000', details: { reason: 'unused' } });
          expect(await deliveryRows({ ...ctx, db: trx }, webhook.id)).toHaveLength(1);
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      expect(await deliveryRows(ctx, webhook.id)).toEqual([]);
      // Through the API: a refused change (rolling a revoked key) enqueues nothing either.
      const client = await ctx.createClient(['tools:deploy']);
      await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now(), revoked_by: 'cli' }).where('id', '=', client.keyId).execute();
      await auth(request(ctx.app).post(`/v1/keys/${client.keyId}/roll`)).send({ grace_seconds: 0 }).expect(409);
      expect(await deliveryRows(ctx, webhook.id)).toEqual([]);
    });

    it('costs an audit event that is no webhook event no query beyond its own insert, however many webhooks the org has', async () => {
      await hook(['key.revoked']);
      await hook([...WEBHOOK_EVENT_TYPES]);
      const counter = new QueryCounter();
      const db = ctx.db.withPlugin(counter);
      await recordAudit(db, ctx.clock, { orgId: admin.orgId, actor: 'anonymous', action: REFUSED_ACTION, targetType: 'key', targetId: null, details: { reason: 'bad_secret' } });
      expect(counter.count).toBe(1);
      await recordAudit(db, ctx.clock, { orgId: admin.orgId, actor: 'system', action: 'key.expired', targetType: 'key', targetId: 'key_01JD0000000000000000000000' });
      // A webhook event: its insert, the org's webhooks, and one insert of every delivery.
      expect(counter.count).toBe(4);
    });
  });
});
