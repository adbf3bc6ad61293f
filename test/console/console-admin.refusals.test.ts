// Refusals on the console's people and operator pages: a viewer's and an editor's requests
// refused by the use cases' own scope checks (no section in their navigation either), a
// forged post refused by the CSRF check, bad input shown next to its field with 400 and the
// values kept, and the last owner's demotion said in plain words.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleGet, consolePost, visibleText } from '../helpers/console.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, PASSWORD, type SignedIn } from '../helpers/people.js';
import { getUser, listUsers } from '../../src/store/users.js';

describe.each(DIALECTS)('console admin refusals on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    let viewer: SignedIn;
    let editor: SignedIn;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      owner = await createPerson(ctx, { role: 'owner', name: 'Only Owner' });
      viewer = await createPerson(ctx, { role: 'viewer' });
      editor = await createPerson(ctx, { role: 'editor' });
    });
    afterAll(async () => ctx?.close());

    it('shows a viewer and an editor no People, Organizations or Signing keys, and refuses those pages and their changes with 403', async () => {
      for (const person of [viewer, editor]) {
        const nav = (await consoleGet(ctx.app, person, '/console/apps').expect(200)).text;
        for (const href of ['/console/people', '/console/orgs', '/console/signing-keys']) expect(nav).not.toContain(`href="${href}"`);
        expect(nav).toContain('href="/console/account"');
        for (const path of ['/console/people', '/console/people/invite', `/console/people/${owner.userId}/role`, '/console/orgs', '/console/orgs/new', '/console/signing-keys', '/console/signing-keys/rotate']) {
          const res = await consoleGet(ctx.app, person, path).expect(403);
          expect(visibleText(res.text), path).toContain('Your role cannot do this');
        }
        await consolePost(ctx.app, person, '/console/people/invite', { email: 'sneaky@example.com', role: 'owner' }).expect(403);
        await consolePost(ctx.app, person, `/console/people/${owner.userId}/delete`).expect(403);
        await consolePost(ctx.app, person, '/console/orgs', { name: 'sneaky' }).expect(403);
        await consolePost(ctx.app, person, '/console/signing-keys/rotate').expect(403);
      }
      expect((await listUsers(ctx.db, owner.orgId, { limit: 50, before: null })).map((u) => u.email)).not.toContain('sneaky@example.com');
      expect(await getUser(ctx.db, owner.orgId, owner.userId)).toBeDefined();
    });

    it('refuses a post without the session’s CSRF token, or from another origin, and changes nothing', async () => {
      for (const options of [{ csrf: false }, { origin: 'https://evil.example' }]) {
        const res = await consolePost(ctx.app, owner, `/console/people/${viewer.userId}/role`, { role: 'owner' }, options).expect(403);
        expect(visibleText(res.text)).toContain('This form cannot be accepted');
        await consolePost(ctx.app, owner, '/console/account/name', { name: 'Forged' }, options).expect(403);
        await consolePost(ctx.app, owner, '/console/account/sessions/sign-out-others', {}, options).expect(403);
      }
      expect((await getUser(ctx.db, viewer.orgId, viewer.userId))!.role).toBe('viewer');
      expect((await getUser(ctx.db, owner.orgId, owner.userId))!.name).toBe('Only Owner');
    });

    it('shows bad input next to its field with 400, keeping the values', async () => {
      const invite = await consolePost(ctx.app, owner, '/console/people/invite', { email: 'not-an-email', role: 'viewer' }).expect(400);
      expect(invite.text).toMatch(/<p class="field-error" id="email-error">[^<]+<\/p>/);
      expect(invite.text).toContain('value="not-an-email"');
      const taken = await consolePost(ctx.app, owner, '/console/people/invite', { email: viewer.email, role: 'viewer' }).expect(409);
      expect(taken.text).toContain('id="email-error"');
      const name = await consolePost(ctx.app, owner, '/console/account/name', { name: '' }).expect(400);
      expect(name.text).toContain('id="name-error"');
      const wrong = await consolePost(ctx.app, owner, '/console/account/password', { current_password: 'not my password at all', new_password: 'a brand new horse battery', new_password_repeat: 'a brand new horse battery' }).expect(400);
      expect(visibleText(wrong.text)).toContain('That is not your current password');
      expect(wrong.text).toContain('id="current_password-error"');
      const differ = await consolePost(ctx.app, owner, '/console/account/password', { current_password: PASSWORD, new_password: 'a brand new horse battery', new_password_repeat: 'another' }).expect(400);
      expect(differ.text).toContain('id="new_password_repeat-error"');
      const org = await consolePost(ctx.app, owner, '/console/orgs', { name: '' }).expect(400);
      expect(org.text).toContain('id="name-error"');
      await consolePost(ctx.app, owner, '/console/second-factor/start').expect(303);
      const code = await consolePost(ctx.app, owner, '/console/second-factor/confirm', { code: '12345' }).expect(400);
      expect(code.text).toContain('id="code-error"');
      expect(code.text).toContain('<img src="data:image/png');
      await consolePost(ctx.app, owner, '/console/second-factor/remove').expect(303);
    });

    it('says in plain words that the last owner cannot be demoted, disabled or deleted', async () => {
      for (const [action, fields] of [['role', { role: 'viewer' }], ['disable', {}], ['delete', {}]] as const) {
        const res = await consolePost(ctx.app, owner, `/console/people/${owner.userId}/${action}`, fields).expect(409);
        expect(visibleText(res.text), action).toContain('This is the last active owner of the organization; make someone else an owner first.');
      }
      expect((await getUser(ctx.db, owner.orgId, owner.userId))!).toMatchObject({ role: 'owner', status: 'active' });
    });
  });
});
