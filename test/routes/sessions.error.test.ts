import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expect400 } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, PASSWORD, signIn } from '../helpers/people.js';

describe.each(DIALECTS)('POST /v1/sessions and DELETE /v1/sessions/current, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_THROTTLE_KEY_FAILURES: '3', SCOPE_AUTH_THROTTLE_IP_FAILURES: '1000' } });
    });
    afterAll(async () => ctx?.close());

    it('answers 400 naming the field for a missing, ill-typed or oversize field, and an unknown one', async () => {
      const post = (body: object) => request(ctx.app).post('/v1/sessions').send(body);
      expect400(await post({ password: PASSWORD }), 'email');
      expect400(await post({ email: 'a@example.com' }), 'password');
      expect400(await post({ email: 'a@example.com', password: '' }), 'password');
      expect400(await post({ email: 42, password: PASSWORD }), 'email');
      expect400(await post({ email: `${'a'.repeat(300)}@example.com`, password: PASSWORD }), 'email');
      expect400(await post({ email: 'a@example.com', password: 'x'.repeat(257) }), 'password');
      expect400(await post({ email: 'a@example.com', password: PASSWORD, totp: '12345' }), 'totp');
      expect400(await post({ email: 'a@example.com', password: PASSWORD, totp: 123456 }), 'totp');
      expect400(await post({ email: 'a@example.com', password: PASSWORD, remember: true }), 'remember');
    });

    it('answers 415 for a form body and 400 for malformed JSON', async () => {
      await request(ctx.app).post('/v1/sessions').type('form').send({ email: 'a@example.com', password: PASSWORD }).expect(415);
      await request(ctx.app).post('/v1/sessions').set('Content-Type', 'application/json').send('{"email":').expect(400);
    });

    it('answers 429 with Retry-After once an email has failed too often from one client, even with the right password', async () => {
      const ada = await createPerson(ctx);
      for (let i = 0; i < 3; i++) await signIn(ctx.app, ada.email, 'not the password at all').expect(401);
      const res = await signIn(ctx.app, ada.email).expect(429);
      expect(res.body).toMatchObject({ code: 'throttled' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      // Another email from the same client is not throttled; the window ends after a minute.
      const bob = await createPerson(ctx);
      await signIn(ctx.app, bob.email).expect(201);
      ctx.clock.advance(61_000);
      await signIn(ctx.app, ada.email).expect(201);
    });

    it('answers 401 to signing out without a session, and 403 to a bearer token', async () => {
      await request(ctx.app).delete('/v1/sessions/current').expect(401);
      const { token } = await ctx.tokenFor(['admin.apps:view']);
      const res = await request(ctx.app).delete('/v1/sessions/current').set('Authorization', `Bearer ${token}`).expect(403);
      expect(res.body.code).toBe('forbidden');
    });

    it('answers 405 with Allow for a method the paths do not take', async () => {
      const res = await request(ctx.app).get('/v1/sessions').expect(405);
      expect(res.headers['allow']).toBe('POST');
      expect((await request(ctx.app).post('/v1/sessions/current').expect(405)).headers['allow']).toBe('DELETE');
    });
  });
});
