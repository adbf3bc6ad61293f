// The Webhooks pages' security: a viewer and an editor (admin.webhooks:view, not :full) see
// the webhooks but no control that changes them, and the use case refuses their posts with
// the 403 page; another organization's webhook is not found, to read or to change; a
// signed-out visitor is sent to sign in; the new pages hold no inline script or style and
// escape what was typed.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/domain/actor.js';
import { createWebhook, type CreatedWebhook } from '../../src/domain/webhooks.js';
import { orgSnapshot } from '../helpers/admin.js';
import { consoleGet, consolePost, expectNoInlineCode, visibleText } from '../helpers/console.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, type SignedIn } from '../helpers/people.js';
import { LOOPBACK_ENV } from '../helpers/webhooks.js';

describe.each(DIALECTS)('console webhook security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    let viewer: SignedIn;
    let editor: SignedIn;
    let stranger: SignedIn;
    let hook: CreatedWebhook;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: LOOPBACK_ENV });
      owner = await createPerson(ctx, { role: 'owner' });
      viewer = await createPerson(ctx, { role: 'viewer', name: 'Vic' });
      editor = await createPerson(ctx, { role: 'editor', name: 'Eddie' });
      const other = await ctx.createOrg('other');
      stranger = await createPerson(ctx, { role: 'owner', orgId: other.org.id, name: 'Olga' });
      hook = await createWebhook({ ...ctx.deps, kek: ctx.deps.people.kek }, cliActor(owner.orgId), {
        url: 'https://hooks.example.com/in?<b>=1',
        events: ['key.created'],
        description: '<img src=x onerror=alert(1)>',
      });
    });
    afterAll(async () => ctx?.close());

    const base = () => `/console/webhooks/${hook.webhook.id}`;
    const posts = () => [
      ['/console/webhooks', { url: 'https://hooks.example.com/forged', event: ['key.created'] }],
      [`${base()}/edit`, { url: 'https://hooks.example.com/forged', event: ['key.created'] }],
      [`${base()}/disable`, {}],
      [`${base()}/rotate`, {}],
      [`${base()}/delete`, {}],
    ] as const;

    it('shows a viewer and an editor the webhooks, without "Add webhook" or any control that changes one', async () => {
      for (const person of [viewer, editor]) {
        const list = (await consoleGet(ctx.app, person, '/console/webhooks').expect(200)).text;
        expect(list).toContain('<a href="/console/webhooks" aria-current="page">Webhooks</a>');
        expect(list).toContain(`href="${base()}"`);
        expect(list).not.toContain('Add webhook');
        const page = (await consoleGet(ctx.app, person, base()).expect(200)).text;
        expect(visibleText(page)).toContain('Recent deliveries');
        for (const control of ['>Edit<', '>Disable<', '>Enable<', '>Rotate secret<', '>Delete<']) expect(page).not.toContain(control);
      }
    });

    it('refuses a viewer’s and an editor’s posts in the use case, with the 403 page, changing nothing', async () => {
      const before = await orgSnapshot(ctx, owner.orgId);
      for (const person of [viewer, editor]) {
        for (const [path, fields] of posts()) {
          const res = await consolePost(ctx.app, person, path, fields).expect(403);
          expect(visibleText(res.text), path).toContain('Your role cannot do this');
          expect(res.text, path).toContain('admin.webhooks:full');
        }
      }
      expect(await orgSnapshot(ctx, owner.orgId)).toEqual(before);
    });

    it('answers another organization’s owner the 404 page for the webhook, to read or to change, and lists it not', async () => {
      const before = await orgSnapshot(ctx, owner.orgId);
      expect(visibleText((await consoleGet(ctx.app, stranger, '/console/webhooks').expect(200)).text)).toContain('No webhooks yet.');
      for (const path of [base(), `${base()}/edit`, `${base()}/rotate`, `${base()}/delete`]) {
        expect(visibleText((await consoleGet(ctx.app, stranger, path).expect(404)).text), path).toContain('Not found');
      }
      for (const [path, fields] of posts().slice(1)) await consolePost(ctx.app, stranger, path, fields).expect(404);
      expect(await orgSnapshot(ctx, owner.orgId)).toEqual(before);
    });

    it('sends a signed-out visitor to sign in from every webhook page', async () => {
      for (const path of ['/console/webhooks', '/console/webhooks/new', base(), `${base()}/delete`]) {
        const res = await request(ctx.app).get(path).expect(303);
        expect(res.headers.location, path).toBe(`/console/sign-in?next=${encodeURIComponent(path)}`);
      }
    });

    it('holds no inline script or style attribute on the webhook pages, and escapes what was typed', async () => {
      for (const path of ['/console/webhooks', '/console/webhooks/new', base(), `${base()}/edit`, `${base()}/rotate`, `${base()}/delete`]) {
        const html = (await consoleGet(ctx.app, owner, path).expect(200)).text;
        expectNoInlineCode(html, path);
        expect(html, path).not.toContain('<img src=x');
        expect(html, path).not.toContain('<b>=1');
      }
      expect((await consoleGet(ctx.app, owner, base()).expect(200)).text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    });

    it('never shows a webhook’s signing secret on any page after the one that made it', async () => {
      for (const path of ['/console/webhooks', base(), `${base()}/edit`, `${base()}/rotate`, '/console/audit']) {
        expect((await consoleGet(ctx.app, owner, path).expect(200)).text, path).not.toContain(hook.secret);
      }
    });
  });
});
