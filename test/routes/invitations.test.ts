// /v1/invitations/{token}: happy paths, errors and security of reading and accepting
// invitation and password-reset links (public routes: no token, no session).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/domain/actor.js';
import { inviteUser } from '../../src/domain/people.js';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { cookieOf, createPerson, PASSWORD, session, signIn, tokenOf } from '../helpers/people.js';

describe.each(DIALECTS)('/v1/invitations/{token} on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());
    const iso = (ms: number) => new Date(ms).toISOString();
    let n = 0;
    async function invite(role: 'viewer' | 'editor' | 'owner' = 'viewer', orgId = ctx.root.org.id) {
      const email = `invitee${++n}@example.com`;
      const invited = await inviteUser(ctx.deps, cliActor(orgId), { email, role });
      return { email, userId: invited.user.id, token: tokenOf(invited.invitationUrl) };
    }
    const accept = (token: string, body: object) => request(ctx.app).post(`/v1/invitations/${token}`).send(body);

    describe('happy paths', () => {
      it('tells what an invitation is for: the email, the org and the role, not cacheable', async () => {
        const { email, token } = await invite('editor');
        const res = await request(ctx.app).get(`/v1/invitations/${token}`).expect(200);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body).toEqual({
          purpose: 'invitation',
          email,
          org: { id: ctx.root.org.id, name: 'default' },
          role: 'editor',
          expires_at: iso(ctx.clock.now() + 72 * 3600_000),
        });
      });

      it('accepts with a name and a password: the person is active and signed in, and it is audited', async () => {
        const { email, userId, token } = await invite('editor');
        const res = await accept(token, { name: '  Grace Hopper ', password: PASSWORD }).expect(201);
        expect(res.body).toEqual({
          user: expect.objectContaining({ id: userId, email, name: 'Grace Hopper', role: 'editor', status: 'active', created_by: 'cli' }),
          csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
          expires_at: iso(ctx.clock.now() + 12 * 3600_000),
          restricted_to: null,
        });
        await session(ctx.app, { cookie: cookieOf(res), csrf: res.body.csrf_token }).post('/v1/apps/app_01JA0000000000000000000000/keys', { name: 'x' }).expect(404);
        await signIn(ctx.app, email).expect(201);
        const [joined] = await auditEvents(ctx, ctx.root.org.id, { action: 'user.joined', target_id: userId });
        expect(joined).toMatchObject({ actor: userId, actor_name: 'Grace Hopper', details: { role: 'editor' } });
      });

      it('accepts the first start’s open invitation, which takes the email too, as the root org’s first owner', async () => {
        const fresh = await createTestContext({ dialect: dialectCase.dialect });
        try {
          const { issueFirstOwnerInvitation } = await import('../../src/domain/first-owner.js');
          const url = await issueFirstOwnerInvitation(fresh.deps, fresh.root.org.id);
          const token = tokenOf(url);
          expect((await request(fresh.app).get(`/v1/invitations/${token}`).expect(200)).body).toMatchObject({ purpose: 'invitation', email: null, role: 'owner' });
          const missing = await request(fresh.app).post(`/v1/invitations/${token}`).send({ name: 'Root', password: PASSWORD }).expect(400);
          expect(missing.body.detail).toContain('email');
          const res = await request(fresh.app).post(`/v1/invitations/${token}`).send({ name: 'Root', password: PASSWORD, email: 'root@example.com' }).expect(201);
          expect(res.body.user).toMatchObject({ email: 'root@example.com', role: 'owner', status: 'active', created_by: 'system' });
          const me = await session(fresh.app, { cookie: cookieOf(res), csrf: res.body.csrf_token }).get('/v1/me').expect(200);
          expect(me.body.scopes).toContain('admin.orgs:full');
        } finally {
          await fresh.close();
        }
      });
    });

    describe('errors', () => {
      it('answers one identical 404 for an unknown, malformed, used or expired link', async () => {
        const used = await invite();
        await accept(used.token, { name: 'Used', password: PASSWORD }).expect(201);
        const expired = await invite();
        const bodies = new Set<string>();
        const probe = async (token: string) => {
          const read = await request(ctx.app).get(`/v1/invitations/${token}`).expect(404);
          const post = await accept(token, { name: 'X', password: PASSWORD }).expect(404);
          bodies.add(JSON.stringify(read.body));
          bodies.add(JSON.stringify(post.body));
        };
        await probe('A'.repeat(43));
        await probe('not-a-token');
        await probe(used.token);
        ctx.clock.advance(72 * 3600_000);
        await probe(expired.token);
        expect(bodies.size).toBe(1);
        expect(JSON.parse([...bodies][0]!)).toMatchObject({ status: 404, code: 'not_found' });
      });

      it('answers 400 naming the field for a missing name, a weak password or an unknown field', async () => {
        const { email, token } = await invite();
        const detail = async (body: object) => (await accept(token, body).expect(400)).body.detail as string;
        expect(await detail({ password: PASSWORD })).toContain('name');
        expect(await detail({ name: 'X', password: 'short one' })).toContain('15 to 256');
        expect(await detail({ name: 'X', password: 'iloveyou' })).toContain('most common');
        expect(await detail({ name: 'X', password: `my ${email.split('@')[0]} passphrase` })).toContain('before the @');
        expect(await detail({ name: 'X', password: PASSWORD, role: 'owner' })).toContain('role');
        expect(await detail({ name: 'X', password: PASSWORD, email: 'someone-else@example.com' })).toContain('another email');
        // Nothing was used up.
        await accept(token, { name: 'X', password: PASSWORD }).expect(201);
      });

      it('answers 404 to an invitation whose person was deleted or re-invited since', async () => {
        const owner = await createPerson(ctx);
        const first = await invite();
        await session(ctx.app, owner).delete(`/v1/users/${first.userId}`).expect(204);
        await accept(first.token, { name: 'X', password: PASSWORD }).expect(404);
      });
    });

    describe('security', () => {
      it('is usable once, even by two requests at once', async () => {
        const { token } = await invite();
        const answers = await Promise.all([accept(token, { name: 'A', password: PASSWORD }), accept(token, { name: 'B', password: PASSWORD })]);
        expect(answers.map((r) => r.status).sort()).toEqual([201, 404]);
      });

      it('stores only the digest of a link’s token, and never shows the token again', async () => {
        const { token, userId } = await invite();
        const rows = await ctx.db.selectFrom('user_links').selectAll().where('user_id', '=', userId).execute();
        expect(rows).toHaveLength(1);
        expect(JSON.stringify(rows)).not.toContain(token);
        const owner = await createPerson(ctx);
        const read = await session(ctx.app, owner).get(`/v1/users/${userId}`).expect(200);
        expect(JSON.stringify(read.body)).not.toContain(token);
        expect(JSON.stringify(await auditEvents(ctx, ctx.root.org.id))).not.toContain(token);
      });

      it('refuses an accept a browser sends from another site', async () => {
        const { token } = await invite();
        const res = await accept(token, { name: 'X', password: PASSWORD }).set('Sec-Fetch-Site', 'cross-site').expect(403);
        expect(res.body.code).toBe('csrf_failed');
        await accept(token, { name: 'X', password: PASSWORD }).expect(201);
      });

      it('answers 404 to a link of a disabled org', async () => {
        const tenant = await ctx.createOrg('disabled later');
        const { token } = await invite('viewer', tenant.org.id);
        await ctx.db.updateTable('orgs').set({ disabled_at: ctx.clock.now() }).where('id', '=', tenant.org.id).execute();
        await request(ctx.app).get(`/v1/invitations/${token}`).expect(404);
      });

      it('ends every session of a person who resets their password', async () => {
        const owner = await createPerson(ctx);
        const pat = await createPerson(ctx, { role: 'viewer' });
        const other = cookieOf(await signIn(ctx.app, pat.email).expect(201));
        const reset = await session(ctx.app, owner).post(`/v1/users/${pat.userId}/password-reset`).expect(201);
        const fresh = cookieOf(await signIn(ctx.app, pat.email).expect(201)); // signed in again between issue and use
        await accept(tokenOf(reset.body.reset_url), { password: 'another long passphrase' }).expect(201);
        for (const cookie of [pat.cookie, other, fresh]) await request(ctx.app).get('/v1/me').set('Cookie', cookie).expect(401);
      });
    });
  });
});
