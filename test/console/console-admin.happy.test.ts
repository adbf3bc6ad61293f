// The console's pages for people and the operator, as routes: my account (name, password,
// sessions), the second factor, people, organizations and signing keys — what each page
// shows an owner, and that each change lands as the API's would (stored rows, audit events).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { consoleGet, consolePost, visibleText } from '../helpers/console.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { codeAt, STEP_MS } from '../helpers/mfa.js';
import { cookieOf, createPerson, ORIGIN, PASSWORD, signIn, tokenOf, type SignedIn } from '../helpers/people.js';
import { getUser } from '../../src/store/users.js';

const NEW_PASSWORD = 'a different horse battery staple';

describe.each(DIALECTS)('console admin pages on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      owner = await createPerson(ctx, { role: 'owner', name: 'Olive Owner', email: 'olive@example.com' });
    });
    afterAll(async () => ctx?.close());

    it('shows an owner every section in the navigation, My account included', async () => {
      const page = (await consoleGet(ctx.app, owner, '/console/apps').expect(200)).text;
      for (const href of ['/console/people', '/console/orgs', '/console/signing-keys', '/console/account']) expect(page).toContain(`href="${href}"`);
    });

    it('renames the person and changes their password on My account, ending their other sessions', async () => {
      const person = await createPerson(ctx, { role: 'viewer', name: 'Old Name' });
      const other = cookieOf(await signIn(ctx.app, person.email).expect(201));
      const renamed = await consolePost(ctx.app, person, '/console/account/name', { name: 'New Name' }).expect(303);
      expect(renamed.headers.location).toBe('/console/account?done=name-saved');
      expect((await getUser(ctx.db, person.orgId, person.userId))!.name).toBe('New Name');
      const changed = await consolePost(ctx.app, person, '/console/account/password', { current_password: PASSWORD, new_password: NEW_PASSWORD, new_password_repeat: NEW_PASSWORD }).expect(303);
      expect(changed.headers.location).toBe('/console/account?done=password-changed');
      await request(ctx.app).get('/console/account').set('Cookie', other).expect(303);
      await signIn(ctx.app, person.email, NEW_PASSWORD).expect(201);
      expect(visibleText((await consoleGet(ctx.app, person, changed.headers.location!).expect(200)).text)).toContain('Your password was changed');
    });

    it('lists the person’s sessions, signs one out, and signs out everywhere else', async () => {
      const person = await createPerson(ctx, { role: 'editor' });
      const second = cookieOf(await signIn(ctx.app, person.email).expect(201));
      const third = cookieOf(await signIn(ctx.app, person.email).expect(201));
      const page = (await consoleGet(ctx.app, person, '/console/account').expect(200)).text;
      const ids = [...page.matchAll(/action="\/console\/account\/sessions\/(ses_[0-9A-Za-z]+)\/sign-out"/g)].map((m) => m[1]!);
      expect(ids).toHaveLength(3);
      expect(visibleText(page)).toContain('This session');
      const me = (await request(ctx.app).get('/v1/me').set('Cookie', second).expect(200)).body.session.id as string;
      await consolePost(ctx.app, person, `/console/account/sessions/${me}/sign-out`).expect(303);
      await request(ctx.app).get('/v1/me').set('Cookie', second).expect(401);
      await consolePost(ctx.app, person, '/console/account/sessions/sign-out-others').expect(303);
      await request(ctx.app).get('/v1/me').set('Cookie', third).expect(401);
      const own = (await request(ctx.app).get('/v1/me').set('Cookie', person.cookie).expect(200)).body.session.id as string;
      expect(ids).toContain(own);
      const out = await consolePost(ctx.app, person, `/console/account/sessions/${own}/sign-out`).expect(303);
      expect(out.headers.location).toBe('/console/sign-in');
      await consoleGet(ctx.app, person, '/console/account').expect(303);
    });

    it('enrols a second factor: the QR code as a data: image and the secret, confirmed by a code, the recovery codes once; then sign-in asks for a code', async () => {
      const person = await createPerson(ctx, { role: 'viewer' });
      await consolePost(ctx.app, person, '/console/second-factor/start').expect(303);
      const pending = (await consoleGet(ctx.app, person, '/console/second-factor').expect(200)).text;
      expect(pending).toMatch(/<img src="data:image\/png;base64,[A-Za-z0-9+/=]+" width="240" height="240" alt="QR code/);
      const secret = /<output id="totp-secret"[^>]*>([A-Z2-7]+)<\/output>/.exec(pending)![1]!;
      // A reload shows the same secret: the state is the URL's.
      expect((await consoleGet(ctx.app, person, '/console/second-factor').expect(200)).text).toContain(secret);
      const confirmed = await consolePost(ctx.app, person, '/console/second-factor/confirm', { code: codeAt(secret, ctx.clock.now()) }).expect(200);
      const codes = /<pre id="recovery-codes"[^>]*>([^<]+)<\/pre>/.exec(confirmed.text)![1]!.split('\n');
      expect(codes).toHaveLength(10);
      expect((await consoleGet(ctx.app, person, '/console/second-factor').expect(200)).text).not.toContain(codes[0]!);
      ctx.clock.advance(STEP_MS);
      const asked = await request(ctx.app).post('/console/sign-in').set('Origin', ORIGIN).type('form').send(`email=${encodeURIComponent(person.email)}&password=${encodeURIComponent(PASSWORD)}`).expect(401);
      expect(visibleText(asked.text)).toContain('Your account has a second factor');
      expect(asked.text).toContain('id="recovery_code"');
      const body = `email=${encodeURIComponent(person.email)}&password=${encodeURIComponent(PASSWORD)}&totp=${codeAt(secret, ctx.clock.now())}`;
      await request(ctx.app).post('/console/sign-in').set('Origin', ORIGIN).type('form').send(body).expect(303);
      ctx.clock.advance(STEP_MS);
      await consolePost(ctx.app, person, '/console/second-factor/remove', { totp: codeAt(secret, ctx.clock.now()), recovery_code: '' }).expect(303);
      expect((await getUser(ctx.db, person.orgId, person.userId))!.mfa_enabled_at).toBeNull();
    });

    it('sends an enrolment-only session (the org requires a second factor) to the enrolment page, from sign-in and from every other page', async () => {
      const org = await ctx.createOrg('strict-co');
      const person = await createPerson(ctx, { role: 'owner', orgId: org.org.id });
      await ctx.db.updateTable('orgs').set({ require_mfa: 1 }).where('id', '=', org.org.id).execute();
      const res = await request(ctx.app).post('/console/sign-in').set('Origin', ORIGIN).type('form').send(`email=${encodeURIComponent(person.email)}&password=${encodeURIComponent(PASSWORD)}`).expect(303);
      expect(res.headers.location).toBe('/console/second-factor');
      const restricted = { cookie: cookieOf(res), csrf: person.csrf };
      expect((await consoleGet(ctx.app, restricted, '/console/apps').expect(303)).headers.location).toBe('/console/second-factor');
      const page = visibleText((await consoleGet(ctx.app, restricted, '/console/second-factor').expect(200)).text);
      expect(page).toContain('strict-co requires a second factor');
    });

    it('invites a person from People, showing the one-time link once, which the invitation page accepts', async () => {
      const res = await consolePost(ctx.app, owner, '/console/people/invite', { email: 'new.person@example.com', role: 'editor' }).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const url = /(http:\/\/scope-auth\.test\/console\/invitations\/[A-Za-z0-9_-]+)/.exec(res.text)![1]!;
      expect(visibleText(res.text)).toContain('it will not be shown again');
      const joined = await request(ctx.app).post(`/console/invitations/${tokenOf(url)}`).set('Origin', ORIGIN).type('form')
        .send(`name=New%20Person&password=${encodeURIComponent(PASSWORD)}&password_repeat=${encodeURIComponent(PASSWORD)}`).expect(303);
      expect(joined.headers.location).toBe('/console/apps');
      const list = visibleText((await consoleGet(ctx.app, owner, '/console/people').expect(200)).text);
      expect(list).toContain('New Person new.person@example.com editor Active');
    });

    it('changes a role, disables and enables, resets a password (the link once), resets a second factor and deletes a person', async () => {
      const person = await createPerson(ctx, { role: 'viewer', name: 'Pat' });
      const base = `/console/people/${person.userId}`;
      expect(visibleText((await consoleGet(ctx.app, owner, `${base}/role`).expect(200)).text)).toContain('Change the role of Pat');
      expect((await consolePost(ctx.app, owner, `${base}/role`, { role: 'editor', back: '/console/people' }).expect(303)).headers.location).toBe('/console/people?done=role-changed');
      expect((await getUser(ctx.db, person.orgId, person.userId))!.role).toBe('editor');
      await consolePost(ctx.app, owner, `${base}/disable`).expect(303);
      expect((await getUser(ctx.db, person.orgId, person.userId))!.status).toBe('disabled');
      await consolePost(ctx.app, owner, `${base}/enable`).expect(303);
      expect((await getUser(ctx.db, person.orgId, person.userId))!.status).toBe('active');
      const reset = await consolePost(ctx.app, owner, `${base}/password-reset`).expect(200);
      expect(reset.text).toMatch(/http:\/\/scope-auth\.test\/console\/password-reset\/[A-Za-z0-9_-]+/);
      const again = cookieOf(await signIn(ctx.app, person.email).expect(201));
      const started = await request(ctx.app).post('/v1/me/mfa').set('Cookie', again).set('Origin', ORIGIN).set('X-CSRF-Token', (await request(ctx.app).get('/v1/me').set('Cookie', again)).body.csrf_token).send({}).expect(201);
      await ctx.db.updateTable('users').set({ mfa_enabled_at: ctx.clock.now() }).where('id', '=', person.userId).execute();
      expect(started.body.secret).toBeTruthy();
      expect(visibleText((await consoleGet(ctx.app, owner, '/console/people').expect(200)).text)).toContain('Reset second factor');
      await consolePost(ctx.app, owner, `${base}/second-factor-reset`).expect(303);
      expect((await getUser(ctx.db, person.orgId, person.userId))!.mfa_enabled_at).toBeNull();
      await consolePost(ctx.app, owner, `${base}/delete`).expect(303);
      expect(await getUser(ctx.db, person.orgId, person.userId)).toBeUndefined();
      const actions = (await auditEvents(ctx, owner.orgId)).map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['user.updated', 'user.password_reset_issued', 'user.mfa_reset', 'user.deleted']));
    });

    it('creates an organization with its admin key and its first owner’s link, both once, and the link makes its owner', async () => {
      const res = await consolePost(ctx.app, owner, '/console/orgs', { name: 'Tenant Ltd' }).expect(200);
      const secret = /SCOPE_API_SECRET=(\S+)/.exec(res.text)![1]!;
      const orgId = /SCOPE_ORG_ID=(org_[0-9A-Za-z]+)/.exec(res.text)![1]!;
      const keyId = /SCOPE_API_KEY=(\S+)/.exec(res.text)![1]!;
      await ctx.tokenOf({ orgId, keyId, secret });
      const link = /(http:\/\/scope-auth\.test\/console\/invitations\/[A-Za-z0-9_-]+)/.exec(res.text)![1]!;
      const joined = await request(ctx.app).post(`/v1/invitations/${tokenOf(link)}`).send({ email: 'boss@tenant.example', name: 'Boss', password: PASSWORD }).expect(201);
      expect(joined.body.user).toMatchObject({ org_id: orgId, role: 'owner' });
      expect(visibleText((await consoleGet(ctx.app, owner, '/console/orgs').expect(200)).text)).toContain('Tenant Ltd');
    });

    it('lists the signing keys with their states and rotates them, audited with who rotated', async () => {
      const before = visibleText((await consoleGet(ctx.app, owner, '/console/signing-keys').expect(200)).text);
      expect(before).toContain('Active');
      expect(before).toContain('Standby');
      const res = await consolePost(ctx.app, owner, '/console/signing-keys/rotate', { immediate: 'yes' }).expect(303);
      expect(res.headers.location).toBe('/console/signing-keys?done=signing-keys-rotated');
      expect(visibleText((await consoleGet(ctx.app, owner, res.headers.location!).expect(200)).text)).toContain('Retired');
      const event = (await auditEvents(ctx, owner.orgId)).find((e) => e.action === 'signing_keys.rotated');
      expect(event).toMatchObject({ actor: owner.userId });
    });
  });
});
