import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, PASSWORD, session, signIn, tokenOf, type SignedIn } from '../helpers/people.js';

describe.each(DIALECTS)('/v1/users, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      owner = await createPerson(ctx, { name: 'Olive Owner' });
    });
    afterAll(async () => ctx?.close());
    const as = () => session(ctx.app, owner);
    const iso = (ms: number) => new Date(ms).toISOString();

    it('invites an email with a role: 201 with the invited person and a one-time link, nothing emailed', async () => {
      const res = await as().post('/v1/users', { email: ' Grace@Example.com ', role: 'editor' }).expect(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['location']).toBe(`/v1/users/${res.body.user.id}`);
      expect(res.body).toEqual({
        user: {
          id: expect.stringMatching(/^usr_[0-9A-Z]{26}$/),
          org_id: ctx.root.org.id,
          email: 'Grace@Example.com',
          name: '',
          role: 'editor',
          status: 'invited',
          created_at: iso(ctx.clock.now()),
          created_by: owner.userId,
          created_by_name: 'Olive Owner',
          last_sign_in_at: null,
          mfa_enabled: false,
        },
        invitation_url: expect.stringMatching(/^http:\/\/scope-auth\.test\/console\/invitations\/[A-Za-z0-9_-]{43}$/),
      });
      expect((await as().get(`/v1/users/${res.body.user.id}`).expect(200)).body).toEqual(res.body.user);
      const [event] = await auditEvents(ctx, ctx.root.org.id, { action: 'user.invited', target_id: res.body.user.id });
      expect(event).toMatchObject({ actor: owner.userId, actor_name: 'Olive Owner', details: { role: 'editor', again: false } });
      expect(JSON.stringify(event)).not.toContain('Grace');
    });

    it('replaces the link when the same email is invited again, with the new role', async () => {
      const first = await as().post('/v1/users', { email: 'linus@example.com', role: 'viewer' }).expect(201);
      const second = await as().post('/v1/users', { email: 'LINUS@example.com', role: 'owner' }).expect(201);
      expect(second.body.user).toMatchObject({ id: first.body.user.id, role: 'owner', status: 'invited' });
      await request(ctx.app).get(`/v1/invitations/${tokenOf(first.body.invitation_url)}`).expect(404);
      await request(ctx.app).get(`/v1/invitations/${tokenOf(second.body.invitation_url)}`).expect(200);
    });

    it('lists the org’s people newest first, paginated', async () => {
      for (const n of [1, 2, 3]) await as().post('/v1/users', { email: `list${n}@example.com`, role: 'viewer' }).expect(201);
      const page = await as().get('/v1/users?limit=2').expect(200);
      expect(page.body.data.map((u: { email: string }) => u.email)).toEqual(['list3@example.com', 'list2@example.com']);
      const rest = await as().get(`/v1/users?limit=200&cursor=${page.body.next_cursor}`).expect(200);
      expect(rest.body.data.map((u: { email: string }) => u.email)).toContain('list1@example.com');
      expect(rest.body.next_cursor).toBeNull();
    });

    it('changes a role (ending the person’s sessions), renames, disables and enables', async () => {
      const ed = await createPerson(ctx, { role: 'viewer' });
      const renamed = await as().patch(`/v1/users/${ed.userId}`, { name: 'Ed Editor', role: 'editor' }).expect(200);
      expect(renamed.body).toMatchObject({ name: 'Ed Editor', role: 'editor', status: 'active' });
      await session(ctx.app, ed).get('/v1/me').expect(401);
      const [changed] = await auditEvents(ctx, ctx.root.org.id, { action: 'user.updated', target_id: ed.userId });
      expect(changed!.details).toEqual({ changes: { name: { from: 'Ada Lovelace', to: 'Ed Editor' }, role: { from: 'viewer', to: 'editor' } } });
      const [ended] = await auditEvents(ctx, ctx.root.org.id, { action: 'session.ended', target_id: ed.userId });
      expect(ended!.details).toEqual({ reason: 'role_changed', count: 1 });

      await signIn(ctx.app, ed.email).expect(201);
      await as().patch(`/v1/users/${ed.userId}`, { status: 'disabled' }).expect(200);
      await signIn(ctx.app, ed.email).expect(401);
      expect((await as().patch(`/v1/users/${ed.userId}`, { status: 'active' }).expect(200)).body.status).toBe('active');
      await signIn(ctx.app, ed.email).expect(201);
    });

    it('issues a password-reset link: the person’s sessions end, the link sets a new password once', async () => {
      const pat = await createPerson(ctx, { role: 'viewer' });
      const res = await as().post(`/v1/users/${pat.userId}/password-reset`).expect(201);
      expect(res.body).toEqual({ reset_url: expect.stringMatching(/^http:\/\/scope-auth\.test\/console\/password-reset\/[A-Za-z0-9_-]{43}$/) });
      await session(ctx.app, pat).get('/v1/me').expect(401);
      const token = tokenOf(res.body.reset_url);
      await request(ctx.app).post(`/v1/invitations/${token}`).send({ password: 'a brand new passphrase here' }).expect(201);
      await request(ctx.app).post(`/v1/invitations/${token}`).send({ password: 'a brand new passphrase here' }).expect(404);
      await signIn(ctx.app, pat.email, PASSWORD).expect(401);
      await signIn(ctx.app, pat.email, 'a brand new passphrase here').expect(201);
    });

    it('deletes a person: 204, their sessions end, the audit log keeps their id', async () => {
      const gone = await createPerson(ctx, { role: 'viewer' });
      await as().delete(`/v1/users/${gone.userId}`).expect(204);
      await as().get(`/v1/users/${gone.userId}`).expect(404);
      await session(ctx.app, gone).get('/v1/me').expect(401);
      const [event] = await auditEvents(ctx, ctx.root.org.id, { action: 'user.deleted', target_id: gone.userId });
      expect(event).toMatchObject({ actor: owner.userId, details: { role: 'viewer' } });
      // Their own events name them still, without a name now.
      const [joined] = await auditEvents(ctx, ctx.root.org.id, { action: 'user.joined', target_id: gone.userId });
      expect(joined).toMatchObject({ actor: gone.userId, actor_name: null });
    });

    it('lists a person’s sessions for an owner and ends them all', async () => {
      const many = await createPerson(ctx, { role: 'viewer' });
      await signIn(ctx.app, many.email).set('User-Agent', 'curl/8').expect(201);
      const listed = await as().get(`/v1/users/${many.userId}/sessions`).expect(200);
      expect(listed.body.data).toHaveLength(2);
      expect(listed.body.data[0]).toEqual({
        id: expect.stringMatching(/^ses_/),
        created_at: iso(ctx.clock.now()),
        last_seen_at: iso(ctx.clock.now()),
        expires_at: iso(ctx.clock.now() + 12 * 3600_000),
        ip: expect.any(String),
        user_agent: 'curl/8',
        current: false,
      });
      await as().delete(`/v1/users/${many.userId}/sessions`).expect(204);
      expect((await as().get(`/v1/users/${many.userId}/sessions`).expect(200)).body.data).toEqual([]);
      await session(ctx.app, many).get('/v1/me').expect(401);
    });

    it('works the same with an API key holding admin.users:full, recorded under the key', async () => {
      const { token, keyId } = await ctx.tokenFor(['admin.users:full', 'admin.apps:full', 'admin.audit:view', 'admin.webhooks:full']);
      const res = await request(ctx.app).post('/v1/users').set('Authorization', `Bearer ${token}`).send({ email: 'bykey@example.com', role: 'viewer' }).expect(201);
      expect(res.body.user).toMatchObject({ created_by: keyId, created_by_name: 'test key' });
    });
  });
});
