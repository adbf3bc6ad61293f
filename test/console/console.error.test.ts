// What the console answers to input it refuses: the form again with status 400 (401 for a
// wrong sign-in), the refusal in plain words next to the field that caused it, the values
// kept; a page for what is not there.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/domain/actor.js';
import { inviteUser } from '../../src/domain/people.js';
import { consoleGet, consolePost, visibleText } from '../helpers/console.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, ORIGIN, PASSWORD, tokenOf, type SignedIn } from '../helpers/people.js';

/** The message shown under a field, and whether the control is marked invalid. */
function fieldMessage(html: string, name: string): string | null {
  const found = new RegExp(`<p class="field-error" id="${name}-error">([^<]*)</p>`).exec(html);
  if (found === null) return null;
  expect(html).toMatch(new RegExp(`id="${name}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="${name}"|name="${name}"[^>]*aria-invalid="true"`));
  return found[1]!;
}

describe.each(DIALECTS)('console errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS: '30' } });
      owner = await createPerson(ctx, { role: 'owner', email: 'errors@example.com' });
    });
    afterAll(async () => ctx?.close());

    it('shows a refused app name next to the Name field with 400, keeping what was typed', async () => {
      const res = await consolePost(ctx.app, owner, '/console/apps', { name: ' ', description: 'kept description', scope: ['runtime:run'], audience: '', token_ttl: '' }).expect(400);
      expect(fieldMessage(res.text, 'name')).toBe('Expected 1 to 100 characters without control characters.');
      expect(res.text).toContain('>kept description</textarea>');
      expect(res.text).toMatch(/value="runtime:run"[^>]*checked/);
    });

    it('shows an unknown scope next to the picker, with the close match it suggests', async () => {
      const res = await consolePost(ctx.app, owner, '/console/apps', { name: 'typo', scope: ['runtime:runn'], audience: '', token_ttl: '' }).expect(400);
      expect(fieldMessage(res.text.replace('class="stack" data-scope-picker', 'id="scopes" aria-invalid="true"'), 'scopes')).toContain('did you mean');
      expect(res.text).toContain('value="typo"');
    });

    it('refuses a key expiry beyond the server’s maximum lifetime next to the Expires field, explaining the policy', async () => {
      const app = await ctx.createApp(owner.orgId, ['runtime:run']);
      const form = visibleText((await consoleGet(ctx.app, owner, `/console/apps/${app.id}/keys/new`).expect(200)).text);
      expect(form).toContain('Keys on this server expire within 30 days');
      const far = new Date(ctx.clock.now() + 90 * 86_400_000).toISOString().slice(0, 10);
      const res = await consolePost(ctx.app, owner, `/console/apps/${app.id}/keys`, { name: 'kept name', expires: far }).expect(400);
      expect(fieldMessage(res.text, 'expires')).toBe('Must be within 30 days from now (SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS).');
      expect(res.text).toContain('value="kept name"');
    });

    it('refuses a wrong password with 401 and one message, keeping the email', async () => {
      const res = await request(ctx.app).post('/console/sign-in').set('Origin', ORIGIN).type('form').send('email=errors%40example.com&password=not+the+right+one+at+all').expect(401);
      expect(visibleText(res.text)).toContain('The email address, password or code is not right.');
      expect(res.text).toContain('value="errors@example.com"');
      const code = await request(ctx.app).post('/console/sign-in').set('Origin', ORIGIN).type('form').send(`email=errors%40example.com&password=x&totp=12ab`).expect(400);
      expect(fieldMessage(code.text, 'totp')).toBe('Enter the 6 digits of your authenticator app.');
    });

    it('asks for the same password twice and a strong one when accepting an invitation', async () => {
      const invited = await inviteUser(ctx.deps, cliActor(ctx.root.org.id), { email: 'new.person@example.com', role: 'editor' });
      const path = `/console/invitations/${tokenOf(invited.invitationUrl)}`;
      const post = (fields: string) => request(ctx.app).post(path).set('Origin', ORIGIN).type('form').send(fields);
      const differ = await post(`name=Nia&password=${encodeURIComponent(PASSWORD)}&password_repeat=something+else+entirely`).expect(400);
      expect(fieldMessage(differ.text, 'password_repeat')).toBe('The two passwords differ: type the same one twice.');
      expect(differ.text).toContain('value="Nia"');
      const weak = await post('name=Nia&password=password&password_repeat=password').expect(400);
      expect(fieldMessage(weak.text, 'password')).toContain('most common passwords');
      await post(`name=Nia&password=${encodeURIComponent(PASSWORD)}&password_repeat=${encodeURIComponent(PASSWORD)}`).expect(303);
    });

    it('answers 404 pages for an unknown app, key or link, and 400 for a bad filter', async () => {
      expect(visibleText((await consoleGet(ctx.app, owner, '/console/apps/app_01J00000000000000000000000/keys').expect(404)).text)).toContain('Not found');
      await consoleGet(ctx.app, owner, '/console/keys/key_01J00000000000000000000000/revoke').expect(404);
      await consoleGet(ctx.app, owner, '/console/no-such-page').expect(404);
      const link = await request(ctx.app).get('/console/invitations/not-a-real-token').expect(404);
      expect(link.headers['content-type']).toContain('text/html');
      expect((await consoleGet(ctx.app, owner, '/console/keys?status=lost').expect(400)).headers['content-type']).toContain('text/html');
    });
  });
});
