// /v1/me: happy paths, errors and security of a person's own routes (sessions only).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { asPerson, cookieOf, createPerson, ORIGIN, PASSWORD, session, signIn } from '../helpers/people.js';

describe.each(DIALECTS)('/v1/me on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_THROTTLE_KEY_FAILURES: '3' } });
    });
    afterAll(async () => ctx?.close());
    const iso = (ms: number) => new Date(ms).toISOString();

    describe('happy paths', () => {
      it('shows the person, their org and role, their scopes and the session’s CSRF token', async () => {
        const ed = await createPerson(ctx, { role: 'editor', name: 'Ed' });
        const res = await session(ctx.app, ed).get('/v1/me').expect(200);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body).toEqual({
          user: expect.objectContaining({ id: ed.userId, name: 'Ed', role: 'editor' }),
          org: { id: ctx.root.org.id, name: 'default', is_root: true, require_mfa: false },
          role: 'editor',
          scopes: ['admin.apps:edit', 'admin.apps:view', 'admin.audit:view', 'admin.webhooks:view'],
          csrf_token: ed.csrf,
          session: { id: expect.stringMatching(/^ses_/), expires_at: iso(ctx.clock.now() + 12 * 3600_000), restricted_to: null },
        });
      });

      it('renames the person, shown at once wherever they are named', async () => {
        const ada = await createPerson(ctx, { name: 'Ada' });
        const created = await session(ctx.app, ada).post('/v1/apps', { name: 'named', scopes: [] }).expect(201);
        expect(created.body.created_by_name).toBe('Ada');
        await session(ctx.app, ada).patch('/v1/me', { name: 'Ada King' }).expect(200);
        expect((await session(ctx.app, ada).get(`/v1/apps/${created.body.id}`).expect(200)).body.created_by_name).toBe('Ada King');
        const [event] = await auditEvents(ctx, ctx.root.org.id, { target_id: created.body.id });
        expect(event!.actor_name).toBe('Ada King');
      });

      it('changes the password with the current one, ending every other session but this one', async () => {
        const pat = await createPerson(ctx);
        const other = cookieOf(await signIn(ctx.app, pat.email).expect(201));
        await session(ctx.app, pat).patch('/v1/me', { current_password: PASSWORD, new_password: 'an entirely new passphrase' }).expect(200);
        await session(ctx.app, pat).get('/v1/me').expect(200);
        await request(ctx.app).get('/v1/me').set('Cookie', other).expect(401);
        await signIn(ctx.app, pat.email, 'an entirely new passphrase').expect(201);
        const [changed] = await auditEvents(ctx, ctx.root.org.id, { action: 'user.password_changed', target_id: pat.userId });
        expect(changed).toMatchObject({ actor: pat.userId, details: {} });
      });

      it('lists the person’s sessions, ends one, and signs out everywhere else', async () => {
        const sam = await createPerson(ctx);
        const second = cookieOf(await signIn(ctx.app, sam.email).expect(201));
        const third = cookieOf(await signIn(ctx.app, sam.email).expect(201));
        const listed = await session(ctx.app, sam).get('/v1/me/sessions').expect(200);
        expect(listed.body.data).toHaveLength(3);
        expect(listed.body.data.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
        const newest = listed.body.data[0].id as string;
        await session(ctx.app, sam).delete(`/v1/me/sessions/${newest}`).expect(204);
        await request(ctx.app).get('/v1/me').set('Cookie', third).expect(401);
        await session(ctx.app, sam).delete('/v1/me/sessions').expect(204);
        await request(ctx.app).get('/v1/me').set('Cookie', second).expect(401);
        expect((await session(ctx.app, sam).get('/v1/me/sessions').expect(200)).body.data).toHaveLength(1);
      });
    });

    describe('errors', () => {
      it('answers 400 for a wrong current password, a weak new one, half a change or an unknown field', async () => {
        const pat = await createPerson(ctx);
        const patch = (body: object) => session(ctx.app, pat).patch('/v1/me', body);
        expect((await patch({ current_password: 'not my password at all', new_password: 'an entirely new passphrase' }).expect(400)).body.detail).toContain('current_password');
        expect((await patch({ current_password: PASSWORD, new_password: 'password' }).expect(400)).body.detail).toContain('new_password');
        expect((await patch({ new_password: 'an entirely new passphrase' }).expect(400)).body.detail).toContain('current_password');
        expect((await patch({ current_password: PASSWORD }).expect(400)).body.detail).toContain('new_password');
        expect((await patch({ role: 'owner' }).expect(400)).body.detail).toContain('role');
        expect((await patch({}).expect(400)).body.detail).toContain('at least one');
      });

      it('throttles guesses of the current password as sign-ins are throttled', async () => {
        const pat = await createPerson(ctx);
        for (let i = 0; i < 3; i++) await session(ctx.app, pat).patch('/v1/me', { current_password: `guess number ${i} of many`, new_password: 'an entirely new passphrase' }).expect(400);
        const res = await session(ctx.app, pat).patch('/v1/me', { current_password: PASSWORD, new_password: 'an entirely new passphrase' }).expect(429);
        expect(res.body.code).toBe('throttled');
        ctx.clock.advance(61_000);
      });

      it('answers 404 for a session that is not the person’s', async () => {
        const a = await createPerson(ctx);
        const b = await createPerson(ctx);
        const [bs] = (await session(ctx.app, b).get('/v1/me/sessions').expect(200)).body.data;
        await session(ctx.app, a).delete(`/v1/me/sessions/${bs.id}`).expect(404);
        await session(ctx.app, b).get('/v1/me').expect(200);
        expect((await session(ctx.app, a).delete('/v1/me/sessions/ses_nope').expect(400)).body.detail).toContain('session_id');
      });
    });

    describe('security', () => {
      it('answers 401 without a session and 403 to a bearer token, which has no “me”', async () => {
        for (const path of ['/v1/me', '/v1/me/sessions']) {
          const none = await request(ctx.app).get(path).expect(401);
          expect(none.headers['www-authenticate']).toBe('Bearer realm="scope-auth"');
          const { token } = await ctx.tokenFor(['admin.apps:full']);
          expect((await request(ctx.app).get(path).set('Authorization', `Bearer ${token}`).expect(403)).body.code).toBe('forbidden');
        }
      });

      it('answers 403 csrf_failed to a change without the CSRF token or from another site', async () => {
        const ada = await createPerson(ctx, { name: 'Unchanged' });
        const attempts = [
          asPerson(request(ctx.app).patch('/v1/me'), ada, { csrf: false }).set('Origin', ORIGIN).send({ name: 'Changed' }),
          asPerson(request(ctx.app).patch('/v1/me'), ada, { csrf: false }).set('X-CSRF-Token', ada.csrf).set('Sec-Fetch-Site', 'cross-site').send({ name: 'Changed' }),
          asPerson(request(ctx.app).delete('/v1/me/sessions'), ada, { csrf: false }).set('Origin', ORIGIN),
          asPerson(request(ctx.app).delete('/v1/sessions/current'), ada, { csrf: false }).set('Origin', 'https://evil.example').set('X-CSRF-Token', ada.csrf),
        ];
        for (const res of await Promise.all(attempts)) expect(res.body.code).toBe('csrf_failed');
        expect((await session(ctx.app, ada).get('/v1/me').expect(200)).body.user.name).toBe('Unchanged');
      });

      it('takes the CSRF token from a csrf_token form field too', async () => {
        const ada = await createPerson(ctx);
        const res = await asPerson(request(ctx.app).delete('/v1/sessions/current'), ada, { csrf: false }).set('Origin', ORIGIN).type('form').send({ csrf_token: ada.csrf });
        expect(res.status).toBe(204);
      });

      it('never shows a session’s secret in its list', async () => {
        const ada = await createPerson(ctx);
        const listed = await session(ctx.app, ada).get('/v1/me/sessions').expect(200);
        expect(JSON.stringify(listed.body)).not.toContain(ada.cookie.split('=')[1]!);
        expect(Object.keys(listed.body.data[0]).sort()).toEqual(['created_at', 'current', 'expires_at', 'id', 'ip', 'last_seen_at', 'user_agent']);
      });
    });
  });
});
