import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type request from 'supertest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, session, type SignedIn } from '../helpers/people.js';

describe.each(DIALECTS)('/v1/users, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      owner = await createPerson(ctx);
    });
    afterAll(async () => ctx?.close());
    const as = () => session(ctx.app, owner);

    function expectProblem(res: request.Response, status: number, code: string, detail?: string) {
      expect(res.status).toBe(status);
      expect(res.body).toMatchObject({ status, code });
      if (detail !== undefined) expect(res.body.detail).toContain(detail);
    }

    it('answers 400 naming the field for a bad email, role, status, name or unknown field', async () => {
      expectProblem(await as().post('/v1/users', { email: 'not an email', role: 'viewer' }), 400, 'invalid_request', 'email');
      expectProblem(await as().post('/v1/users', { email: 'a@example.com', role: 'admin' }), 400, 'invalid_request', 'role');
      expectProblem(await as().post('/v1/users', { email: 'a@example.com' }), 400, 'invalid_request', 'role');
      expectProblem(await as().post('/v1/users', { email: 'a@example.com', role: 'viewer', name: 'x' }), 400, 'invalid_request', 'name');
      expectProblem(await as().patch(`/v1/users/${owner.userId}`, {}), 400, 'invalid_request', 'at least one of role, status, name');
      expectProblem(await as().patch(`/v1/users/${owner.userId}`, { status: 'invited' }), 400, 'invalid_request', 'status');
      expectProblem(await as().patch(`/v1/users/${owner.userId}`, { name: '' }), 400, 'invalid_request', 'name');
      expectProblem(await as().get('/v1/users/usr_nope'), 400, 'invalid_request', 'user_id');
      expectProblem(await as().get('/v1/users?cursor=junk'), 400, 'invalid_request', 'cursor');
      expectProblem(await as().post(`/v1/users/${owner.userId}/password-reset`, { now: true }), 400, 'invalid_request', 'now');
    });

    it('answers 404 for a person who is not there', async () => {
      const missing = 'usr_01JA0000000000000000000000';
      expectProblem(await as().get(`/v1/users/${missing}`), 404, 'not_found');
      expectProblem(await as().patch(`/v1/users/${missing}`, { name: 'x' }), 404, 'not_found');
      expectProblem(await as().delete(`/v1/users/${missing}`), 404, 'not_found');
      expectProblem(await as().post(`/v1/users/${missing}/password-reset`), 404, 'not_found');
    });

    it('answers 409 for an email already taken, in this org or another', async () => {
      expectProblem(await as().post('/v1/users', { email: owner.email.toUpperCase(), role: 'viewer' }), 409, 'conflict', 'email');
      const other = await ctx.createOrg('other');
      const elsewhere = await createPerson(ctx, { orgId: other.org.id });
      expectProblem(await as().post('/v1/users', { email: elsewhere.email, role: 'viewer' }), 409, 'conflict', 'email');
    });

    it('answers 409 last_owner to demoting, disabling or deleting the last active owner, and lets it go once there is another', async () => {
      const tenant = await ctx.createOrg('one owner');
      const only = await createPerson(ctx, { orgId: tenant.org.id });
      const asOnly = session(ctx.app, only);
      expectProblem(await asOnly.patch(`/v1/users/${only.userId}`, { role: 'editor' }), 409, 'last_owner');
      expectProblem(await asOnly.patch(`/v1/users/${only.userId}`, { status: 'disabled' }), 409, 'last_owner');
      expectProblem(await asOnly.delete(`/v1/users/${only.userId}`), 409, 'last_owner');
      // An invited owner is not an active one.
      await asOnly.post('/v1/users', { email: 'next-owner@example.com', role: 'owner' }).expect(201);
      expectProblem(await asOnly.patch(`/v1/users/${only.userId}`, { role: 'viewer' }), 409, 'last_owner');
      const second = await createPerson(ctx, { orgId: tenant.org.id });
      await asOnly.patch(`/v1/users/${only.userId}`, { role: 'viewer' }).expect(200);
      expectProblem(await session(ctx.app, second).delete(`/v1/users/${second.userId}`), 409, 'last_owner');
    });

    it('answers 409 to enabling or disabling someone who has not accepted, and to a reset for them or a disabled person', async () => {
      const invited = (await as().post('/v1/users', { email: 'pending@example.com', role: 'viewer' }).expect(201)).body.user.id as string;
      expectProblem(await as().patch(`/v1/users/${invited}`, { status: 'active' }), 409, 'conflict', 'not accepted');
      expectProblem(await as().post(`/v1/users/${invited}/password-reset`), 409, 'conflict', 'invite them again');
      const off = await createPerson(ctx, { role: 'viewer' });
      await as().patch(`/v1/users/${off.userId}`, { status: 'disabled' }).expect(200);
      expectProblem(await as().post(`/v1/users/${off.userId}/password-reset`), 409, 'conflict', 'enable them first');
    });
  });
});
