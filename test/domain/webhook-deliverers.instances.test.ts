// Deliverers side by side and the SSRF guard at delivery: two deliverers on one database
// (each its own handle and lease holder, as two instances) send every delivery exactly
// once; a host name is resolved at each attempt and the connection goes only to an address
// the guard allowed; redirects are not followed.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { recordAudit } from '../../src/domain/audit.js';
import { createDatabase, type DatabaseHandle } from '../../src/store/database.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { clearWebhooks, deliveryRows, LOOPBACK_ENV, registerWebhook, receiverPerTest, testDeliverer, testDelivererJob } from '../helpers/webhooks.js';

/** `count` key.expiring events, as the expiry reminders record them. */
async function expiringEvents(ctx: TestContext, orgId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await recordAudit(ctx.db, ctx.clock, { orgId, actor: 'system', action: 'key.expiring', targetType: 'key', targetId: `key_01JD00000000000000000000${String(i).padStart(2, '0')}`, details: { i } });
  }
}

describe.each(DIALECTS)('webhook deliverers on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let second: DatabaseHandle;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: LOOPBACK_ENV });
      second = await createDatabase(ctx.database.url, ctx.database.schema === undefined ? {} : { schema: ctx.database.schema });
      admin = await ctx.tokenFor(['admin.webhooks:full']);
    });
    afterAll(async () => {
      await second?.close();
      await ctx?.close();
    });
    beforeEach(async () => {
      admin.token = await ctx.tokenOf(admin);
    });
    const receiver = receiverPerTest(() => ctx);

    const idsReceived = () => receiver().received.map((m) => m.headers['webhook-id'] as string);

    it('runs on one instance at a time: of two deliverer jobs, one delivers each delivery, exactly once', async () => {
      const { webhook } = await registerWebhook(ctx, admin.token, { url: receiver().url, events: ['key.expiring'] });
      await expiringEvents(ctx, admin.orgId, 40);
      const a = testDelivererJob(ctx, { holder: 'instance-a' });
      const b = testDelivererJob({ ...ctx, deps: { ...ctx.deps, db: second.db } }, { holder: 'instance-b' });
      try {
        const ran = await Promise.all([a.runOnce(), b.runOnce()]);
        expect(ran.filter(Boolean)).toHaveLength(1);
        // Later events, and the lease run out: whichever takes it now goes on.
        await expiringEvents(ctx, admin.orgId, 5);
        ctx.clock.advance(10 * 60_000);
        for (let i = 0; i < 3; i++) await Promise.all([a.runOnce(), b.runOnce()]);
        const rows = await deliveryRows(ctx, webhook.id);
        expect(rows).toHaveLength(45);
        expect(rows.every((row) => row.status === 'delivered' && row.attempts === 1)).toBe(true);
        expect(idsReceived().sort()).toEqual(rows.map((row) => row.event_id).sort());
        expect(new Set(idsReceived()).size).toBe(45);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    });

    it('never attempts one delivery twice, even with two deliverers running at once (a lease outlived)', async () => {
      const { webhook } = await registerWebhook(ctx, admin.token, { url: receiver().url, events: ['key.expiring'] });
      await expiringEvents(ctx, admin.orgId, 70);
      const a = testDeliverer(ctx);
      const b = testDeliverer({ ...ctx, deps: { ...ctx.deps, db: second.db } });
      const made = await Promise.all([a.deliverDue(), b.deliverDue(), a.deliverDue(), b.deliverDue()]);
      expect(made.reduce((x, y) => x + y, 0)).toBe(70);
      expect(new Set(idsReceived()).size).toBe(70);
      expect(idsReceived()).toHaveLength(70);
      expect((await deliveryRows(ctx, webhook.id)).filter((row) => row.status === 'delivered')).toHaveLength(70);
    });

    describe('the SSRF guard at delivery', () => {
      let strict: TestContext;
      let strictAdmin: string;
      beforeAll(async () => {
        // The switches at their defaults: public addresses only.
        strict = await createTestContext({ dialect: dialectCase.dialect });
        strictAdmin = (await strict.tokenFor(['admin.webhooks:full'])).token;
      });
      afterAll(async () => strict?.close());

      const port = () => new URL(receiver().url).port;

      it('refuses a host name that resolves to a loopback address, and connects to nothing', async () => {
        const { webhook } = await registerWebhook(strict, strictAdmin, { url: `https://hooks.example.com:${port()}/hooks`, events: ['key.expiring'] });
        await expiringEvents(strict, strict.root.org.id, 1);
        const asked: string[] = [];
        const resolve = async (host: string) => {
          asked.push(host);
          return [{ address: '127.0.0.1', family: 4 }];
        };
        await testDeliverer(strict, { resolve }).deliverDue();
        const [row] = await deliveryRows(strict, webhook.id);
        expect(asked).toEqual(['hooks.example.com']);
        expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status_code: null });
        expect(row!.last_error).toBe('refused by the SSRF guard: hooks.example.com resolves to 127.0.0.1, a loopback address (allowed only with SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP or SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE)');
        expect(receiver().received).toEqual([]);
      });

      it('refuses when any of the addresses is refused, and an address written into a URL stored before the rules tightened', async () => {
        const { webhook } = await registerWebhook(strict, strictAdmin, { url: `https://hooks.example.com:${port()}/hooks`, events: ['key.expiring'] });
        // As if registered while SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP was on.
        const { webhook: old } = await registerWebhook(strict, strictAdmin, { url: 'https://old.example.com/hooks', events: ['key.expiring'] });
        await strict.db.updateTable('webhooks').set({ url: receiver().url }).where('id', '=', old.id).execute();
        await expiringEvents(strict, strict.root.org.id, 1);
        const resolve = async () => [
          { address: '2606:4700:4700::1111', family: 6 },
          { address: '::ffff:127.0.0.1', family: 6 },
        ];
        await testDeliverer(strict, { resolve }).deliverDue();
        expect((await deliveryRows(strict, webhook.id))[0]!.last_error).toContain('resolves to ::ffff:127.0.0.1, a loopback address');
        expect((await deliveryRows(strict, old.id))[0]!.last_error).toContain('refused by the SSRF guard: 127.0.0.1 is a loopback address');
        expect(receiver().received).toEqual([]);
        await clearWebhooks(strict);
      });

      it('connects to the very address it checked: a loopback receiver by name, when loopback is allowed', async () => {
        const { webhook } = await registerWebhook(ctx, admin.token, { url: `http://localhost:${port()}/hooks`, events: ['key.expiring'] });
        await expiringEvents(ctx, admin.orgId, 1);
        await testDeliverer(ctx, { resolve: async () => [{ address: '127.0.0.1', family: 4 }] }).deliverDue();
        expect((await deliveryRows(ctx, webhook.id))[0]).toMatchObject({ status: 'delivered', last_status_code: 200 });
        expect(receiver().received).toHaveLength(1);
      });
    });

    it('does not follow a redirect: a 3xx is a failed attempt', async () => {
      receiver().answer({ status: 302, body: 'moved' });
      const { webhook } = await registerWebhook(ctx, admin.token, { url: receiver().url, events: ['key.expiring'] });
      await expiringEvents(ctx, admin.orgId, 1);
      await testDeliverer(ctx).deliverDue();
      expect((await deliveryRows(ctx, webhook.id))[0]).toMatchObject({ status: 'pending', last_status_code: 302, last_response: 'moved', last_error: 'the receiver answered 302' });
      expect(receiver().received).toHaveLength(1);
    });
  });
});
