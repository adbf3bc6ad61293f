// The second factor, errors: 400s naming the field, 409s for what cannot be done in the
// state the second factor is in, 401 mfa_required at sign-in, 404 for a person of another
// org, and 405 for methods the paths do not take.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expect400 } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { codeAt, enrol, wrongCodeAt } from '../helpers/mfa.js';
import { createPerson, PASSWORD, session, signIn } from '../helpers/people.js';

describe.each(DIALECTS)('/v1/me/mfa and signing in with a second factor, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_THROTTLE_KEY_FAILURES: '3', SCOPE_AUTH_THROTTLE_IP_FAILURES: '1000' } });
    });
    afterAll(async () => ctx?.close());

    it('answers 400 naming the field for an ill-shaped or unknown field on each route', async () => {
      const ada = await createPerson(ctx);
      expect400(await session(ctx.app, ada).post('/v1/me/mfa', { issuer: 'me' }), 'issuer');
      await session(ctx.app, ada).post('/v1/me/mfa').expect(201);
      for (const body of [{}, { code: '12345' }, { code: 123456 }, { code: '1234567' }, { code: 'abcdef' }]) expect400(await session(ctx.app, ada).post('/v1/me/mfa/confirm', body), 'code');
      expect400(await session(ctx.app, ada).post('/v1/me/mfa/confirm', { code: '123456', extra: 1 }), 'extra');
      expect400(await session(ctx.app, ada).delete('/v1/me/mfa').send({ totp: '1' }), 'totp');
      expect400(await session(ctx.app, ada).delete('/v1/me/mfa').send({ totp: '123456', recovery_code: 'abcd' }), 'recovery_code');
      expect400(await session(ctx.app, ada).get('/v1/me/mfa?verbose=1'), 'verbose');
      const signInBody = { email: ada.email, password: PASSWORD };
      expect400(await request(ctx.app).post('/v1/sessions').send({ ...signInBody, totp: '123456', recovery_code: 'aaaa-bbbb-cccc-dddd' }), 'recovery_code');
      expect400(await request(ctx.app).post('/v1/sessions').send({ ...signInBody, recovery_code: '' }), 'recovery_code');
      expect400(await request(ctx.app).post('/v1/sessions').send({ ...signInBody, recovery_code: 'x'.repeat(65) }), 'recovery_code');
    });

    it('answers 400 to a confirmation with a code that is not a current one of the secret, and keeps the enrolment pending', async () => {
      const bo = await createPerson(ctx);
      const secret = (await session(ctx.app, bo).post('/v1/me/mfa').expect(201)).body.secret as string;
      expect400(await session(ctx.app, bo).post('/v1/me/mfa/confirm', { code: wrongCodeAt(secret, ctx.clock.now()) }), 'code');
      expect400(await session(ctx.app, bo).post('/v1/me/mfa/confirm', { code: codeAt(secret, ctx.clock.now() - 5 * 60_000) }), 'code');
      expect((await session(ctx.app, bo).get('/v1/me/mfa').expect(200)).body).toMatchObject({ enabled: false, pending: true });
      await signIn(ctx.app, bo.email).expect(201);
    });

    it('answers 409 to confirming without an enrolment started, and to starting or confirming one while a second factor is enabled', async () => {
      const cy = await createPerson(ctx);
      expect((await session(ctx.app, cy).post('/v1/me/mfa/confirm', { code: '123456' }).expect(409)).body.detail).toContain('POST /v1/me/mfa');
      const { secret } = await enrol(ctx.app, ctx.clock, cy);
      expect((await session(ctx.app, cy).post('/v1/me/mfa').expect(409)).body.detail).toContain('DELETE /v1/me/mfa');
      await session(ctx.app, cy).post('/v1/me/mfa/confirm', { code: codeAt(secret, ctx.clock.now()) }).expect(409);
    });

    it('answers 400 to removing an enabled second factor without a code, or with a wrong, used or unknown one', async () => {
      const di = await createPerson(ctx);
      const { secret, recoveryCodes } = await enrol(ctx.app, ctx.clock, di);
      expect400(await session(ctx.app, di).delete('/v1/me/mfa'), 'totp');
      expect400(await session(ctx.app, di).delete('/v1/me/mfa').send({ totp: wrongCodeAt(secret, ctx.clock.now()) }), 'totp');
      await signIn(ctx.app, di.email, PASSWORD, { recovery_code: recoveryCodes[0] }).expect(201);
      expect400(await session(ctx.app, di).delete('/v1/me/mfa').send({ recovery_code: recoveryCodes[0] }), 'recovery_code');
      ctx.clock.advance(61_000);
      expect400(await session(ctx.app, di).delete('/v1/me/mfa').send({ recovery_code: 'aaaa-bbbb-cccc-dddd' }), 'recovery_code');
      expect((await session(ctx.app, di).get('/v1/me/mfa').expect(200)).body.enabled).toBe(true);
      ctx.clock.advance(61_000);
    });

    it('answers 401 mfa_required, after the password proved right, to a sign-in without the code or with a wrong one, and sets no cookie', async () => {
      const ed = await createPerson(ctx);
      const { secret } = await enrol(ctx.app, ctx.clock, ed);
      const missing = await signIn(ctx.app, ed.email).expect(401);
      expect(missing.body).toMatchObject({ status: 401, code: 'mfa_required' });
      expect(missing.body.detail).toContain('totp');
      expect(missing.headers['set-cookie']).toBeUndefined();
      const wrong = await signIn(ctx.app, ed.email, PASSWORD, { totp: wrongCodeAt(secret, ctx.clock.now()) }).expect(401);
      expect(wrong.body.code).toBe('mfa_required');
      expect(wrong.body.detail).not.toBe(missing.body.detail);
      expect((await signIn(ctx.app, ed.email, PASSWORD, { recovery_code: 'aaaa-bbbb-cccc-dddd' }).expect(401)).body.code).toBe('mfa_required');
      // A wrong password is the one identical refusal, code or not.
      expect((await signIn(ctx.app, ed.email, 'not the password at all', { totp: codeAt(secret, ctx.clock.now()) }).expect(401)).body.code).toBe('invalid_credentials');
      ctx.clock.advance(61_000);
    });

    it('answers 404 to an owner resetting the second factor of a person of another org or of nobody, 409 for their own', async () => {
      const owner = await createPerson(ctx);
      const tenant = await ctx.createOrg('elsewhere');
      const stranger = await createPerson(ctx, { orgId: tenant.org.id });
      await session(ctx.app, owner).delete(`/v1/users/${stranger.userId}/mfa`).expect(404);
      await session(ctx.app, owner).delete('/v1/users/usr_01JAAAAAAAAAAAAAAAAAAAAAAA/mfa').expect(404);
      expect400(await session(ctx.app, owner).delete('/v1/users/nobody/mfa'), 'user_id');
      expect((await session(ctx.app, owner).delete(`/v1/users/${owner.userId}/mfa`).expect(409)).body.detail).toContain('DELETE /v1/me/mfa');
    });

    it('answers 400 naming require_mfa when it is not a boolean', async () => {
      const { token } = await ctx.tokenFor(['admin.orgs:full']);
      const tenant = await ctx.createOrg('typed');
      expect400(await request(ctx.app).patch(`/v1/orgs/${tenant.org.id}`).set('Authorization', `Bearer ${token}`).send({ require_mfa: 'yes' }), 'require_mfa');
    });

    it('answers 405 with Allow for a method the paths do not take', async () => {
      expect((await request(ctx.app).put('/v1/me/mfa').expect(405)).headers['allow']).toBe('GET, HEAD, POST, DELETE');
      expect((await request(ctx.app).get('/v1/me/mfa/confirm').expect(405)).headers['allow']).toBe('POST');
      expect((await request(ctx.app).get('/v1/users/usr_01JAAAAAAAAAAAAAAAAAAAAAAA/mfa').expect(405)).headers['allow']).toBe('DELETE');
    });
  });
});
