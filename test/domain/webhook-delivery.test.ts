// Webhook deliveries to a real HTTP receiver on 127.0.0.1: the Standard Webhooks headers and
// a signature the library verifies, retries after 500s on the test clock, the 1 KiB limit on
// what is kept of an answer, the time limit, giving up after 24 hours, and a disabled webhook.
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordAudit } from '../../src/domain/audit.js';
import { DELIVERY_WINDOW_MS, nextAttemptAt } from '../../src/domain/webhook-schedule.js';
import { packageVersion } from '../../src/version.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { within } from '../helpers/wait.js';
import { deliveryRows, LOOPBACK_ENV, registerWebhook, receiverPerTest, testDeliverer, testDelivererJob, verifyAt } from '../helpers/webhooks.js';

describe.each(DIALECTS)('webhook deliveries on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: LOOPBACK_ENV });
      admin = await ctx.tokenFor(['admin.apps:full', 'admin.webhooks:full']);
    });
    afterAll(async () => ctx?.close());
    beforeEach(async () => {
      admin.token = await ctx.tokenOf(admin);
    });
    const receiver = receiverPerTest(() => ctx);

    const auth = (req: request.Test) => req.set('Authorization', `Bearer ${admin.token}`);

    /** A webhook on the receiver for `events`, and a key revoked through the API: one key.revoked event. */
    async function revokedKeyEvent(events = ['key.revoked']) {
      const hook = await registerWebhook(ctx, admin.token, { url: receiver().url, events });
      const client = await ctx.createClient(['tools:deploy']);
      await auth(request(ctx.app).post(`/v1/keys/${client.keyId}/revoke`)).send({ reason: 'rotated out' }).expect(200);
      return { hook, client };
    }

    it('POSTs the event with the Standard Webhooks headers, signed so that the library verifies it, and records it delivered', async () => {
      const { hook, client } = await revokedKeyEvent();
      expect(await testDeliverer(ctx).deliverDue()).toBe(1);
      expect(receiver().received).toHaveLength(1);
      const [message] = receiver().received;
      const [row] = await deliveryRows(ctx, hook.webhook.id);
      expect(message!.headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': `scope-auth/${packageVersion()} (webhooks)`,
        'webhook-id': row!.event_id,
        'webhook-timestamp': String(Math.floor(ctx.clock.now() / 1000)),
        'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]+=*$/),
      });
      // The webhook-id is the audit event's id: the receiver can look it up, and deduplicate on it.
      const [audited] = await ctx.db.selectFrom('audit_events').select(['id']).where('action', '=', 'key.revoked').where('target_id', '=', client.keyId).execute();
      expect(row!.event_id).toBe(audited!.id);
      expect(verifyAt(ctx.clock.now(), hook.secret, message!)).toEqual({
        type: 'key.revoked',
        timestamp: new Date(ctx.clock.now()).toISOString(),
        data: { org_id: admin.orgId, object: 'key', id: client.keyId, actor: admin.keyId, app_id: client.appId, name: 'test key', reason: 'rotated out' },
      });
      // Another secret, or a changed body, does not verify.
      expect(() => verifyAt(ctx.clock.now(), `whsec_${Buffer.alloc(32, 7).toString('base64')}`, message!)).toThrow();
      expect(() => verifyAt(ctx.clock.now(), hook.secret, { ...message!, body: message!.body.replace('rotated out', 'nothing') })).toThrow();
      expect(message!.body).not.toContain(client.secret);
      expect(row).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200, last_response: 'ok', last_error: null, delivered_at: ctx.clock.now(), next_attempt_at: null });
      // Delivered once: nothing more to do.
      expect(await testDeliverer(ctx).deliverDue()).toBe(0);
    });

    it('retries after 500s with exponential backoff, the same webhook-id every time, until the receiver answers 200', async () => {
      receiver().answer({ status: 500, body: 'down' }, { status: 500, body: 'still down' });
      const { hook } = await revokedKeyEvent();
      const created = ctx.clock.now();
      const deliverer = testDeliverer(ctx);
      await deliverer.deliverDue();
      let [row] = await deliveryRows(ctx, hook.webhook.id);
      expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 500, last_response: 'down', last_error: 'the receiver answered 500', next_attempt_at: created + 10_000 });
      // Not due yet: nothing is sent.
      ctx.clock.advance(9_999);
      expect(await deliverer.deliverDue()).toBe(0);
      ctx.clock.advance(1);
      await deliverer.deliverDue();
      [row] = await deliveryRows(ctx, hook.webhook.id);
      expect(row).toMatchObject({ status: 'pending', attempts: 2, last_status_code: 500, last_response: 'still down', next_attempt_at: ctx.clock.now() + 40_000 });
      ctx.clock.advance(40_000);
      await deliverer.deliverDue();
      [row] = await deliveryRows(ctx, hook.webhook.id);
      expect(row).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200, last_response: 'ok', last_error: null, delivered_at: ctx.clock.now() });
      expect(receiver().received).toHaveLength(3);
      expect(new Set(receiver().received.map((m) => m.headers['webhook-id']))).toEqual(new Set([row!.event_id]));
      // Each attempt is signed at its own time, and each verifies at that time.
      const times = [created, created + 10_000, created + 50_000];
      receiver().received.forEach((message, i) => {
        expect(message.headers['webhook-timestamp']).toBe(String(times[i]! / 1000));
        expect(verifyAt(times[i]!, hook.secret, message)).toMatchObject({ type: 'key.revoked' });
      });
      const list = await auth(request(ctx.app).get(`/v1/webhooks/${hook.webhook.id}/deliveries`)).expect(200);
      expect(list.body.data[0]).toMatchObject({ status: 'delivered', attempts: 3, last_status_code: 200, delivered_at: new Date(ctx.clock.now()).toISOString() });
    });

    it('keeps at most 1 KiB of an answer', async () => {
      receiver().answer({ status: 500, body: 'x'.repeat(64 * 1024) });
      const { hook } = await revokedKeyEvent();
      await testDeliverer(ctx).deliverDue();
      const [row] = await deliveryRows(ctx, hook.webhook.id);
      expect(row!.last_status_code).toBe(500);
      expect(row!.last_response).toBe('x'.repeat(1024));
    });

    it('gives up on an attempt that gets no answer within the time limit, and tries again later', async () => {
      receiver().answer('hang');
      const { hook } = await revokedKeyEvent();
      await testDeliverer(ctx, { timeoutMs: 200 }).deliverDue();
      const [row] = await deliveryRows(ctx, hook.webhook.id);
      expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, last_response: null, last_error: 'no answer within 0.2 s', next_attempt_at: ctx.clock.now() + 10_000 });
      expect(receiver().received).toHaveLength(1);
    });

    it('ends the attempts in flight when the server stops, instead of waiting for the receiver, and tries them again later', async () => {
      receiver().answer('hang');
      const { hook } = await revokedKeyEvent();
      // A time limit far beyond the test's own: only the stop can end this attempt in time.
      const job = testDelivererJob(ctx, { timeoutMs: 120_000 });
      const running = job.runOnce();
      await within(5000, () => receiver().received.length === 1);
      await job.stop();
      expect(await running).toBe(true);
      const [row] = await deliveryRows(ctx, hook.webhook.id);
      expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null, last_error: 'the server stopped during the attempt', next_attempt_at: ctx.clock.now() + 10_000 });
    });

    it('records a refused connection as the attempt’s error', async () => {
      const { hook } = await revokedKeyEvent();
      await receiver().close();
      await testDeliverer(ctx).deliverDue();
      const [row] = await deliveryRows(ctx, hook.webhook.id);
      expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
      expect(row!.last_error).toContain('ECONNREFUSED');
    });

    it('tries for 24 hours from the event, the last time at the 24th hour, then marks the delivery failed', async () => {
      receiver().answer(...Array.from({ length: 50 }, () => ({ status: 503 })));
      const { hook } = await revokedKeyEvent();
      const created = ctx.clock.now();
      const deliverer = testDeliverer(ctx);
      const attemptTimes: number[] = [];
      for (let i = 0; i < 50; i++) {
        if ((await deliverer.deliverDue()) > 0) attemptTimes.push(ctx.clock.now());
        const [row] = await deliveryRows(ctx, hook.webhook.id);
        if (row!.status !== 'pending') break;
        ctx.clock.set(row!.next_attempt_at!);
      }
      const [row] = await deliveryRows(ctx, hook.webhook.id);
      // The schedule without jitter: 10 s, 40 s, 160 s … up to 4 h apart, then the deadline.
      const expected = [created];
      for (let failures = 1; ; failures++) {
        const next = nextAttemptAt(created, expected[expected.length - 1]!, failures, () => 0.5);
        if (next === null) break;
        expected.push(next);
      }
      expect(attemptTimes).toEqual(expected);
      expect(attemptTimes.at(-1)).toBe(created + DELIVERY_WINDOW_MS);
      expect(row).toMatchObject({ status: 'failed', attempts: expected.length, next_attempt_at: null, last_status_code: 503, last_attempt_at: created + DELIVERY_WINDOW_MS });
      expect(receiver().received).toHaveLength(expected.length);
      ctx.clock.advance(DELIVERY_WINDOW_MS);
      expect(await deliverer.deliverDue()).toBe(0);
    });

    it('fails the pending deliveries of a webhook disabled before they were made, sends nothing, and enqueues nothing for it any more', async () => {
      const { hook } = await revokedKeyEvent();
      await auth(request(ctx.app).patch(`/v1/webhooks/${hook.webhook.id}`)).send({ enabled: false }).expect(200);
      await testDeliverer(ctx).deliverDue();
      const rows = await deliveryRows(ctx, hook.webhook.id);
      expect(rows).toMatchObject([{ status: 'failed', attempts: 0, last_error: 'the webhook was disabled before this delivery was made' }]);
      expect(receiver().received).toEqual([]);
      const client = await ctx.createClient(['tools:deploy']);
      await auth(request(ctx.app).post(`/v1/keys/${client.keyId}/revoke`)).send({}).expect(200);
      expect(await deliveryRows(ctx, hook.webhook.id)).toHaveLength(1);
    });

    it('signs with the current secret after a rotation, pending deliveries included', async () => {
      receiver().answer({ status: 500 });
      const { hook } = await revokedKeyEvent();
      const deliverer = testDeliverer(ctx);
      await deliverer.deliverDue();
      const rotated = await auth(request(ctx.app).post(`/v1/webhooks/${hook.webhook.id}/rotate-secret`)).send({}).expect(200);
      ctx.clock.advance(10_000);
      await deliverer.deliverDue();
      const [, second] = receiver().received;
      expect(verifyAt(ctx.clock.now(), rotated.body.secret, second!)).toMatchObject({ type: 'key.revoked' });
      expect(() => verifyAt(ctx.clock.now(), hook.secret, second!)).toThrow();
    });

    it('delivers events other parts of the server record, such as key.expiring by the system, the same way', async () => {
      const hook = await registerWebhook(ctx, admin.token, { url: receiver().url, events: ['key.expiring', 'key.expired'] });
      const client = await ctx.createClient(['tools:deploy']);
      await recordAudit(ctx.db, ctx.clock, {
        orgId: admin.orgId,
        actor: 'system',
        action: 'key.expiring',
        targetType: 'key',
        targetId: client.keyId,
        details: { app_id: client.appId, name: 'test key', expires_at: '2026-11-30T12:00:00.000Z', secret: 'never sent' },
      });
      await testDeliverer(ctx).deliverDue();
      expect(receiver().received).toHaveLength(1);
      expect(verifyAt(ctx.clock.now(), hook.secret, receiver().received[0]!)).toEqual({
        type: 'key.expiring',
        timestamp: new Date(ctx.clock.now()).toISOString(),
        data: { org_id: admin.orgId, object: 'key', id: client.keyId, actor: 'system', app_id: client.appId, name: 'test key', expires_at: '2026-11-30T12:00:00.000Z' },
      });
    });
  });
});
