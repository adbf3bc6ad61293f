import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { asPerson, COOKIE, cookieOf, createPerson, PASSWORD, session, signIn } from '../helpers/people.js';

describe.each(DIALECTS)('POST /v1/sessions and DELETE /v1/sessions/current, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());
    const iso = (ms: number) => new Date(ms).toISOString();

    it('signs a person in: 201 with the person, the CSRF token and the end, and an HttpOnly SameSite=Strict cookie', async () => {
      const ada = await createPerson(ctx, { role: 'editor', email: 'Ada@Example.com' });
      const res = await signIn(ctx.app, 'ada@example.COM').expect(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({
        user: expect.objectContaining({ id: ada.userId, email: 'Ada@Example.com', role: 'editor', status: 'active', mfa_enabled: false, last_sign_in_at: iso(ctx.clock.now()) }),
        csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        expires_at: iso(ctx.clock.now() + 12 * 3600_000),
        restricted_to: null,
      });
      const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${COOKIE}=`))!;
      expect(cookie).toMatch(new RegExp(`^${COOKIE}=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=/; Expires=.*; HttpOnly; SameSite=Strict$`));
      // The session acts with the role's scopes on the admin API.
      const person = { cookie: cookieOf(res), csrf: res.body.csrf_token as string };
      await session(ctx.app, person).get('/v1/apps').expect(200);
      await session(ctx.app, person).post('/v1/apps', { name: 'needs full', scopes: [] }).expect(403);
      const events = await auditEvents(ctx, ada.orgId, { action: 'session.created', target_id: ada.userId });
      expect(events[0]).toMatchObject({ actor: ada.userId, actor_name: 'Ada Lovelace', target_type: 'user', details: { session_id: expect.stringMatching(/^ses_/) } });
    });

    it('accepts an optional 6-digit totp, ignored while nobody has a second factor', async () => {
      const ada = await createPerson(ctx);
      await signIn(ctx.app, ada.email, PASSWORD, { totp: '123456' }).expect(201);
    });

    it('signs out: 204, the cookie cleared, the session ended everywhere and audited', async () => {
      const ada = await createPerson(ctx);
      const res = await asPerson(request(ctx.app).delete('/v1/sessions/current'), ada).expect(204);
      expect(([] as string[]).concat(res.headers['set-cookie'] ?? []).join()).toMatch(new RegExp(`^${COOKIE}=; Path=/; Expires=Thu, 01 Jan 1970`));
      await session(ctx.app, ada).get('/v1/me').expect(401);
      const [ended] = await auditEvents(ctx, ada.orgId, { action: 'session.ended', target_id: ada.userId });
      expect(ended).toMatchObject({ actor: ada.userId, details: { reason: 'signed_out', session_id: expect.stringMatching(/^ses_/) } });
    });

    it('keeps a busy session for its absolute lifetime, moving its idle clock at most once a minute', async () => {
      const ada = await createPerson(ctx);
      const seen = async () => (await ctx.db.selectFrom('sessions').select('last_seen_at').where('user_id', '=', ada.userId).executeTakeFirstOrThrow()).last_seen_at;
      const start = await seen();
      ctx.clock.advance(30_000);
      await session(ctx.app, ada).get('/v1/me').expect(200);
      expect(await seen()).toBe(start);
      ctx.clock.advance(31_000);
      await session(ctx.app, ada).get('/v1/me').expect(200);
      expect(await seen()).toBe(ctx.clock.now());
      // Twenty minutes at a time: never idle, until the 12 hours are over.
      for (let t = 0; t < 12 * 3 - 1; t++) {
        ctx.clock.advance(20 * 60_000);
        await session(ctx.app, ada).get('/v1/me').expect(200);
      }
      ctx.clock.advance(20 * 60_000);
      await session(ctx.app, ada).get('/v1/me').expect(401);
    });
  });
});
