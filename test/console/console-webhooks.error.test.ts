// What the Webhooks pages answer to input they refuse: the form again with 400 (409 for one
// webhook too many), the domain's refusal in plain words next to its field, what was typed
// kept, nothing stored; a form without the session's CSRF token refused; a 404 page for a
// webhook that is not there.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWebhook, WEBHOOKS_PER_ORG_MAX } from '../../src/domain/webhooks.js';
import { cliActor } from '../../src/domain/actor.js';
import { orgSnapshot } from '../helpers/admin.js';
import { consoleGet, consolePost, visibleText } from '../helpers/console.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, type SignedIn } from '../helpers/people.js';
import { LOOPBACK_ENV } from '../helpers/webhooks.js';

/** The message under a field, once the control is marked invalid and described by it. */
function fieldMessage(html: string, name: string): string | null {
  const found = new RegExp(`<p class="field-error" id="${name}-error">([^<]*)</p>`).exec(html);
  if (found === null) return null;
  expect(html).toMatch(new RegExp(`id="${name}"[^>]*aria-invalid="true"|aria-describedby="[^"]*${name}-error"`));
  return found[1]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'");
}

const UNKNOWN = 'whk_01J00000000000000000000000';

describe.each(DIALECTS)('console webhook errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: LOOPBACK_ENV });
      owner = await createPerson(ctx, { role: 'owner', email: 'hook-errors@example.com' });
    });
    afterAll(async () => ctx?.close());
    beforeEach(async () => {
      await ctx.db.deleteFrom('webhooks').execute();
    });

    const add = (fields: Record<string, string | string[]>) => consolePost(ctx.app, owner, '/console/webhooks', { url: 'https://hooks.example.com/in', description: 'kept words', event: ['key.revoked', 'app.updated'], ...fields });

    it('shows a URL that is no URL next to the URL field with 400, keeping what was typed, storing nothing', async () => {
      const before = await orgSnapshot(ctx, owner.orgId);
      const res = await add({ url: 'not a url' }).expect(400);
      expect(fieldMessage(res.text, 'url')).toBe('Expected an absolute https:// URL.');
      expect(res.text).toContain('value="not a url"');
      expect(res.text).toContain('>kept words</textarea>');
      expect(res.text).toMatch(/value="key\.revoked" checked/);
      expect(res.text).toMatch(/value="app\.updated" checked/);
      expect(res.text).not.toMatch(/value="key\.created" checked/);
      expect(await orgSnapshot(ctx, owner.orgId)).toEqual(before);
    });

    it('refuses http:// except to loopback, and a private or loopback address written in the URL', async () => {
      expect(fieldMessage((await add({ url: 'http://hooks.example.com/in' }).expect(400)).text, 'url')).toBe(
        'Must be an https:// URL (http:// only to a loopback address, with SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP=true).',
      );
      expect(fieldMessage((await add({ url: 'https://10.1.2.3/in' }).expect(400)).text, 'url')).toBe(
        '10.1.2.3 is a private address (allowed only with SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE); webhooks go to public addresses only.',
      );
      expect(fieldMessage((await add({ url: 'https://user:pw@hooks.example.com/in' }).expect(400)).text, 'url')).toBe(
        'Must not hold a user name or password; authenticate deliveries by their signature.',
      );
    });

    it('asks for at least one event, and refuses an unknown one (a forged form), next to the events', async () => {
      expect(fieldMessage((await add({ event: [] }).expect(400)).text, 'events')).toMatch(/^Expected at least one of key\.created, /);
      const forged = await add({ event: ['key.created', 'user.deleted'] }).expect(400);
      expect(fieldMessage(forged.text, 'events')).toMatch(/^Unknown event type "user\.deleted"/);
      expect(forged.text).toMatch(/value="key\.created" checked/);
    });

    it('refuses a description over 1000 characters next to its field', async () => {
      const res = await add({ description: 'x'.repeat(1001) }).expect(400);
      expect(fieldMessage(res.text, 'description')).toBe('Expected at most 1000 characters.');
    });

    it('says at the top of the form when the organization has as many webhooks as it may, with 409', async () => {
      for (let i = 0; i < WEBHOOKS_PER_ORG_MAX; i++) {
        await createWebhook({ ...ctx.deps, kek: ctx.deps.people.kek }, cliActor(owner.orgId), { url: `https://hooks.example.com/${i}`, events: ['key.created'] });
      }
      const res = await add({ url: 'https://hooks.example.com/one-more' }).expect(409);
      expect(res.text).toContain(`<p class="form-error" role="alert">An organization has at most ${WEBHOOKS_PER_ORG_MAX} webhooks; delete one first.</p>`);
      expect(res.text).toContain('value="https://hooks.example.com/one-more"');
    });

    it('shows a refused change on the edit form with 400, keeping what was typed and the stored webhook as it was', async () => {
      const created = await createWebhook({ ...ctx.deps, kek: ctx.deps.people.kek }, cliActor(owner.orgId), { url: 'https://hooks.example.com/a', events: ['key.created'] });
      const res = await consolePost(ctx.app, owner, `/console/webhooks/${created.webhook.id}/edit`, { url: 'ftp://hooks.example.com/a', description: 'new words', event: ['key.expired'] }).expect(400);
      expect(fieldMessage(res.text, 'url')).toBe('Must be an https:// URL (http:// only to a loopback address, with SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP=true).');
      expect(res.text).toContain('value="ftp://hooks.example.com/a"');
      expect(res.text).toContain('>new words</textarea>');
      expect(res.text).toMatch(/value="key\.expired" checked/);
      const row = await ctx.db.selectFrom('webhooks').selectAll().where('id', '=', created.webhook.id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ url: 'https://hooks.example.com/a', events: JSON.stringify(['key.created']), description: '' });
    });

    it('refuses every webhook form without the session’s CSRF token, changing nothing', async () => {
      const created = await createWebhook({ ...ctx.deps, kek: ctx.deps.people.kek }, cliActor(owner.orgId), { url: 'https://hooks.example.com/a', events: ['key.created'] });
      const before = await orgSnapshot(ctx, owner.orgId);
      const missing = await consolePost(ctx.app, owner, '/console/webhooks', { url: 'https://hooks.example.com/forged', event: ['key.created'] }, { csrf: false }).expect(403);
      expect(visibleText(missing.text)).toContain('This form cannot be accepted');
      for (const action of ['edit', 'disable', 'enable', 'rotate', 'delete']) {
        await consolePost(ctx.app, owner, `/console/webhooks/${created.webhook.id}/${action}`, { url: 'https://hooks.example.com/forged', event: ['key.created'] }, { csrf: false }).expect(403);
      }
      await consolePost(ctx.app, owner, `/console/webhooks/${created.webhook.id}/delete`, {}, { origin: 'https://evil.example' }).expect(403);
      expect(await orgSnapshot(ctx, owner.orgId)).toEqual(before);
    });

    it('answers the 404 page for a webhook that is not there, and 400 for what is no webhook id', async () => {
      for (const path of [`/console/webhooks/${UNKNOWN}`, `/console/webhooks/${UNKNOWN}/edit`, `/console/webhooks/${UNKNOWN}/rotate`, `/console/webhooks/${UNKNOWN}/delete`]) {
        const res = await consoleGet(ctx.app, owner, path).expect(404);
        expect(res.headers['content-type'], path).toContain('text/html');
        expect(visibleText(res.text), path).toContain('Not found');
      }
      for (const action of ['edit', 'disable', 'enable', 'rotate', 'delete']) {
        await consolePost(ctx.app, owner, `/console/webhooks/${UNKNOWN}/${action}`, { url: 'https://hooks.example.com/a', event: ['key.created'] }).expect(404);
      }
      expect((await consoleGet(ctx.app, owner, '/console/webhooks/app_01J00000000000000000000000').expect(400)).headers['content-type']).toContain('text/html');
      await consoleGet(ctx.app, owner, '/console/webhooks?cursor=not-a-cursor').expect(400);
    });
  });
});
