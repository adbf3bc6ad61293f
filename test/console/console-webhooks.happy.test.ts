// The console's Webhooks pages, as routes: the list, adding a webhook (its signing secret
// shown once), its page with settings and deliveries, editing, disabling and enabling,
// rotating the secret and deleting, each landing as the API's would (the row, the audit event).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { open } from '../../src/domain/kek.js';
import { WEBHOOK_EVENT_TYPES } from '../../src/domain/webhook-events.js';
import { insertDeliveries } from '../../src/store/webhook-deliveries.js';
import { auditEvents } from '../helpers/admin.js';
import { consoleGet, consolePost, visibleText } from '../helpers/console.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, type SignedIn } from '../helpers/people.js';
import { deliveryRows, LOOPBACK_ENV, startReceiver, testDeliverer, type Receiver } from '../helpers/webhooks.js';

const URL_A = 'https://hooks.example.com/scope-auth';
const SECRET = /<output id="signing-secret"[^>]*>(whsec_[A-Za-z0-9+/]{43}=)<\/output>/;
const WEBHOOK_ID = /<output id="webhook-id"[^>]*>(whk_[0-9A-Z]{26})<\/output>/;

describe.each(DIALECTS)('console webhooks on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    let receiver: Receiver;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: LOOPBACK_ENV });
      owner = await createPerson(ctx, { role: 'owner', email: 'hooks@example.com', name: 'Ada Lovelace' });
    });
    afterAll(async () => ctx?.close());
    beforeEach(async () => {
      receiver = await startReceiver('/hook');
      await ctx.db.deleteFrom('webhook_deliveries').execute();
      await ctx.db.deleteFrom('webhooks').execute();
    });
    afterEach(async () => receiver?.close());

    /** Adds a webhook through the form; its id and the secret the page showed. */
    async function addByForm(fields: Record<string, string | string[]> = {}) {
      const res = await consolePost(ctx.app, owner, '/console/webhooks', { url: URL_A, description: 'Security alerts', event: ['key.revoked', 'key.created'], ...fields }).expect(200);
      return { id: WEBHOOK_ID.exec(res.text)![1]!, secret: SECRET.exec(res.text)![1]!, res };
    }
    const stored = (id: string) => ctx.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();

    it('lists no webhook at first, with "Webhooks" current in the navigation and "Add webhook" for an owner', async () => {
      const page = (await consoleGet(ctx.app, owner, '/console/webhooks').expect(200)).text;
      expect(page).toContain('<a href="/console/webhooks" aria-current="page">Webhooks</a>');
      expect(page).toContain('<a href="/console/webhooks/new" class="button primary">Add webhook</a>');
      expect(visibleText(page)).toContain('No webhooks yet.');
    });

    it('offers a checkbox per event type, in the domain’s order, on the form', async () => {
      const form = (await consoleGet(ctx.app, owner, '/console/webhooks/new').expect(200)).text;
      const offered = [...form.matchAll(/<input type="checkbox" name="event" value="([a-z.]+)"/g)].map((m) => m[1]);
      expect(offered).toEqual([...WEBHOOK_EVENT_TYPES]);
      expect(offered).toHaveLength(7);
      expect(visibleText(form)).toContain('this server also allows http:// to a loopback address');
    });

    it('adds a webhook and shows its signing secret once, not cacheable; stored sealed, audited, then listed without it', async () => {
      const { id, secret, res } = await addByForm();
      expect(res.headers['cache-control']).toBe('no-store');
      expect(visibleText(res.text)).toContain('Copy the signing secret now: you will not see it again.');
      expect(res.text).toContain('aria-label="Copy Signing secret"');
      expect(res.text).toContain('data-copy-close="signing-secret" data-href="/console/webhooks"');
      const row = (await stored(id))!;
      expect(row).toMatchObject({ org_id: owner.orgId, url: URL_A, events: JSON.stringify(['key.created', 'key.revoked']), description: 'Security alerts', created_by: owner.userId, disabled_at: null });
      expect(open(ctx.kek, row.secret_encrypted, `webhook ${id}`)).toBe(secret);
      const [event] = await auditEvents(ctx, owner.orgId, { action: 'webhook.created', target_id: id });
      expect(event).toMatchObject({ actor: owner.userId, details: { url: URL_A, events: ['key.created', 'key.revoked'], description: 'Security alerts' } });

      const list = (await consoleGet(ctx.app, owner, '/console/webhooks').expect(200)).text;
      expect(list).toContain(`<a href="/console/webhooks/${id}">${URL_A}</a>`);
      expect(visibleText(list)).toMatch(/Security alerts key\.created key\.revoked Enabled \d{4}-\d{2}-\d{2}/);
      for (const path of ['/console/webhooks', `/console/webhooks/${id}`, `/console/webhooks/${id}/edit`, '/console/audit']) {
        expect((await consoleGet(ctx.app, owner, path).expect(200)).text, path).not.toContain(secret);
      }
    });

    it('shows a webhook’s settings on its page, with the owner’s controls', async () => {
      const { id } = await addByForm();
      const page = (await consoleGet(ctx.app, owner, `/console/webhooks/${id}`).expect(200)).text;
      const text = visibleText(page);
      expect(page).toContain(`<h1 class="long-name">${URL_A}</h1>`);
      expect(text).toContain(`Webhook ID ${id}`);
      expect(text).toContain('Description Security alerts');
      expect(text).toContain('Events key.created key.revoked');
      expect(text).toContain('Status Enabled');
      expect(text).toContain('Created by Ada Lovelace');
      expect(text).toContain('No deliveries yet');
      for (const control of ['>Edit</a>', '>Disable</button>', '>Rotate secret</button>', '>Delete</button>']) expect(page).toContain(control);
    });

    it('edits the URL, events and description, audited as webhook.updated with what changed', async () => {
      const { id } = await addByForm();
      const edit = (await consoleGet(ctx.app, owner, `/console/webhooks/${id}/edit`).expect(200)).text;
      expect(edit).toContain(`value="${URL_A}"`);
      expect(edit).toMatch(/value="key\.revoked" checked/);
      const res = await consolePost(ctx.app, owner, `/console/webhooks/${id}/edit`, { url: `${URL_A}/v2`, description: 'Security alerts', event: ['key.expiring'] }).expect(303);
      expect(res.headers.location).toBe(`/console/webhooks/${id}?done=webhook-saved`);
      expect(await stored(id)).toMatchObject({ url: `${URL_A}/v2`, events: JSON.stringify(['key.expiring']) });
      const [event] = await auditEvents(ctx, owner.orgId, { action: 'webhook.updated', target_id: id });
      expect(event?.details).toEqual({ changes: { url: { from: URL_A, to: `${URL_A}/v2` }, events: { from: ['key.created', 'key.revoked'], to: ['key.expiring'] } } });
      expect(visibleText((await consoleGet(ctx.app, owner, res.headers.location!).expect(200)).text)).toContain('The webhook was saved.');
    });

    it('disables a webhook and enables it again, each with its notice', async () => {
      const { id } = await addByForm();
      const off = await consolePost(ctx.app, owner, `/console/webhooks/${id}/disable`).expect(303);
      expect(off.headers.location).toBe(`/console/webhooks/${id}?done=webhook-disabled`);
      expect((await stored(id))!.disabled_at).toBe(ctx.clock.now());
      const page = visibleText((await consoleGet(ctx.app, owner, off.headers.location!).expect(200)).text);
      expect(page).toContain('The webhook was disabled: nothing more is sent to it.');
      expect(page).toContain('Status Disabled since');
      expect(page).toContain('Enable');
      expect(visibleText((await consoleGet(ctx.app, owner, '/console/webhooks').expect(200)).text)).toContain('Disabled');

      const on = await consolePost(ctx.app, owner, `/console/webhooks/${id}/enable`).expect(303);
      expect(on.headers.location).toBe(`/console/webhooks/${id}?done=webhook-enabled`);
      expect((await stored(id))!.disabled_at).toBeNull();
      const changes = (await auditEvents(ctx, owner.orgId, { action: 'webhook.updated', target_id: id })).map((e) => e.details);
      expect(changes).toEqual([{ changes: { enabled: { from: false, to: true } } }, { changes: { enabled: { from: true, to: false } } }]);
    });

    it('rotates the secret after its confirmation page, showing the new one once and closing to the webhook', async () => {
      const { id, secret } = await addByForm();
      const confirm = (await consoleGet(ctx.app, owner, `/console/webhooks/${id}/rotate`).expect(200)).text;
      expect(confirm).toContain(`<form method="post" action="/console/webhooks/${id}/rotate"`);
      expect(visibleText(confirm)).toContain(`Rotate the signing secret of “${URL_A}”?`);
      const res = await consolePost(ctx.app, owner, `/console/webhooks/${id}/rotate`).expect(200);
      const rotated = SECRET.exec(res.text)![1]!;
      expect(rotated).not.toBe(secret);
      expect(res.text).toContain(`data-href="/console/webhooks/${id}"`);
      expect(open(ctx.kek, (await stored(id))!.secret_encrypted, `webhook ${id}`)).toBe(rotated);
      const [event] = await auditEvents(ctx, owner.orgId, { action: 'webhook.updated', target_id: id });
      expect(event?.details).toEqual({ secret_rotated: true });
    });

    it('deletes a webhook after its confirmation page, back to the list with a notice', async () => {
      const { id } = await addByForm();
      const confirm = visibleText((await consoleGet(ctx.app, owner, `/console/webhooks/${id}/delete`).expect(200)).text);
      expect(confirm).toContain(`Delete webhook “${URL_A}”?`);
      const res = await consolePost(ctx.app, owner, `/console/webhooks/${id}/delete`).expect(303);
      expect(res.headers.location).toBe('/console/webhooks?done=webhook-deleted');
      expect(await stored(id)).toBeUndefined();
      const list = visibleText((await consoleGet(ctx.app, owner, res.headers.location!).expect(200)).text);
      expect(list).toContain('The webhook was deleted, with its deliveries.');
      expect(list).not.toContain(URL_A);
      expect(await auditEvents(ctx, owner.orgId, { action: 'webhook.deleted', target_id: id })).toHaveLength(1);
    });

    it('shows the delivery a new key makes, pending, then delivered with the receiver’s answer', async () => {
      const { id } = await addByForm({ url: receiver.url, event: ['key.created'] });
      const app = await ctx.createApp(owner.orgId, ['tools:deploy']);
      const created = await consolePost(ctx.app, owner, `/console/apps/${app.id}/keys`, { name: 'hooked', expires: '' }).expect(200);
      const keyId = /SCOPE_API_KEY=(key_[0-9A-Z]+)/.exec(created.text)![1]!;
      const [delivery] = await deliveryRows(ctx, id);
      const pending = visibleText((await consoleGet(ctx.app, owner, `/console/webhooks/${id}`).expect(200)).text);
      expect(pending).toContain(`key.created ${delivery!.event_id} Pending 0 None yet Next attempt just now`);

      expect(await testDeliverer(ctx).deliverDue()).toBe(1);
      expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: 'key.created', data: { id: keyId } });
      const delivered = visibleText((await consoleGet(ctx.app, owner, `/console/webhooks/${id}`).expect(200)).text);
      expect(delivered).toContain(`key.created ${delivery!.event_id} Delivered 1 200 Delivered just now`);
    });

    it('shows a failed attempt’s answer, and pages through many deliveries', async () => {
      const { id } = await addByForm({ url: receiver.url, event: ['key.created'] });
      const now = ctx.clock.now();
      const rows = Array.from({ length: 55 }, (_, i) => ({
        id: `dlv_01J${String(i).padStart(23, '0')}`,
        webhook_id: id,
        org_id: owner.orgId,
        event_id: `evt_01J${String(i).padStart(23, '0')}`,
        event_type: 'key.created',
        payload: '{}',
        created_at: now,
        status: i === 54 ? 'failed' : 'delivered',
        attempts: i === 54 ? 8 : 1,
        next_attempt_at: null,
        last_attempt_at: now,
        last_status_code: i === 54 ? 500 : 200,
        last_response: null,
        last_error: i === 54 ? 'the receiver answered 500' : null,
        delivered_at: i === 54 ? null : now,
      }));
      await insertDeliveries(ctx.db, rows);
      const first = (await consoleGet(ctx.app, owner, `/console/webhooks/${id}`).expect(200)).text;
      expect(visibleText(first)).toContain(`key.created ${rows[54]!.event_id} Failed 8 500 the receiver answered 500 Gave up just now`);
      expect(first.match(/<tr>\s*<th scope="row"><code>key\.created/g)).toHaveLength(50);
      const next = /<a href="([^"]+)" rel="next">Next page<\/a>/.exec(first)![1]!.replace(/&amp;/g, '&');
      const second = (await consoleGet(ctx.app, owner, next).expect(200)).text;
      expect(second.match(/<tr>\s*<th scope="row"><code>key\.created/g)).toHaveLength(5);
      expect(second).toContain(`>${rows[0]!.event_id}<`);
      expect(second).toContain('>First page</a>');
      expect(second).not.toContain('rel="next"');
    });
  });
});
