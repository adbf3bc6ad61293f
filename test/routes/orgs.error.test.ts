import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('/v1/orgs, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let token: string;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      token = await ctx.tokenOf(ctx.rootCredentials);
    });
    afterAll(async () => ctx?.close());
    const create = (body: unknown) => request(ctx.app).post('/v1/orgs').set('Authorization', `Bearer ${token}`).send(body as object);

    it.each([
      [{}, 'name'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ name: 7 }, 'name'],
      [{ name: 'ok', root: true }, 'root'],
      [{ name: 'ok', auto_revoke_unused_days: 0 }, 'auto_revoke_unused_days'],
      [{ name: 'ok', auto_revoke_unused_days: 36_501 }, 'auto_revoke_unused_days'],
      [{ name: 'ok', auto_revoke_unused_days: 'x' }, 'auto_revoke_unused_days'],
    ])('answers 400 naming the field for %j and creates no org', async (body, field) => {
      const before = await ctx.db.selectFrom('orgs').select('id').execute();
      const res = await create(body).expect(400);
      expect(res.body).toMatchObject({ code: 'invalid_request' });
      expect(res.body.detail).toContain(field);
      expect(await ctx.db.selectFrom('orgs').select('id').execute()).toEqual(before);
    });

    it('validates list parameters', async () => {
      await request(ctx.app).get('/v1/orgs?limit=0').set('Authorization', `Bearer ${token}`).expect(400);
      await request(ctx.app).get('/v1/orgs?name=x').set('Authorization', `Bearer ${token}`).expect(400);
    });
    const patch = (orgId: string, body: unknown) => request(ctx.app).patch(`/v1/orgs/${orgId}`).set('Authorization', `Bearer ${token}`).send(body as object);
    const orgRows = () => ctx.db.selectFrom('orgs').selectAll().orderBy('id').execute();

    it.each([
      [{}, 'expected at least one of name, allowed_scopes, disabled'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(101) }, 'name'],
      [{ allowed_scopes: 'agents:view' }, 'allowed_scopes'],
      [{ allowed_scopes: [7] }, 'allowed_scopes.0'],
      [{ allowed_scopes: ['a'.repeat(129)] }, 'allowed_scopes.0: expected at most 128 characters'],
      [{ allowed_scopes: Array.from({ length: 201 }, () => 'agents:view') }, 'allowed_scopes: expected at most 200 scopes'],
      [{ allowed_scopes: ['agents:veiw'] }, 'allowed_scopes: unknown scope "agents:veiw" (did you mean "agents:view"?)'],
      [{ allowed_scopes: ['agents:view', 'admin.apps:full'] }, 'admin.apps:full is built in and outside allowances'],
      [{ disabled: 'yes' }, 'disabled'],
      [{ is_root: true }, 'is_root'],
      [{ auto_revoke_unused_days: 0 }, 'auto_revoke_unused_days: expected a whole number of days from 1 to 36500, or null (never)'],
      [{ auto_revoke_unused_days: -1 }, 'auto_revoke_unused_days: expected a whole number of days from 1 to 36500'],
      [{ auto_revoke_unused_days: 36_501 }, 'auto_revoke_unused_days: expected a whole number of days from 1 to 36500'],
      [{ auto_revoke_unused_days: 1.5 }, 'auto_revoke_unused_days: expected a whole number of days from 1 to 36500'],
      [{ auto_revoke_unused_days: 'x' }, 'auto_revoke_unused_days: expected a whole number of days from 1 to 36500'],
      [{ auto_revoke_unused_days: '30' }, 'auto_revoke_unused_days'],
    ])('answers 400 naming the problem for PATCH %j and changes nothing', async (body, mention) => {
      const target = await ctx.createOrg('target');
      const before = await orgRows();
      const res = await patch(target.org.id, body).expect(400);
      expect(res.body).toMatchObject({ code: 'invalid_request' });
      expect(res.body.detail).toContain(mention);
      expect(await orgRows()).toEqual(before);
    });

    it('answers 400 for a malformed org id and 404 for an org that does not exist', async () => {
      const auth = (req: request.Test) => req.set('Authorization', `Bearer ${token}`);
      for (const req of [auth(request(ctx.app).get('/v1/orgs/nope')), auth(request(ctx.app).patch('/v1/orgs/app_01JZZZZZZZZZZZZZZZZZZZZZZZ')).send({ name: 'x' }), auth(request(ctx.app).delete('/v1/orgs/x'))]) {
        expect((await req.expect(400)).body.detail).toContain('org_id: expected an organization id');
      }
      const missing = 'org_01JZZZZZZZZZZZZZZZZZZZZZZZ';
      await auth(request(ctx.app).get(`/v1/orgs/${missing}`)).expect(404);
      await auth(request(ctx.app).patch(`/v1/orgs/${missing}`)).send({ disabled: true }).expect(404);
      const gone = await auth(request(ctx.app).delete(`/v1/orgs/${missing}`)).expect(404);
      expect(gone.body).toMatchObject({ code: 'not_found', detail: `no organization ${missing}` });
    });

    it('refuses to disable or delete the root org with 409, and changes nothing', async () => {
      const before = await orgRows();
      const events = await ctx.db.selectFrom('audit_events').select('id').execute();
      const disable = await patch(ctx.root.org.id, { disabled: true, name: 'renamed too' }).expect(409);
      expect(disable.body).toMatchObject({ code: 'conflict', detail: expect.stringContaining('the root organization cannot be disabled') });
      const remove = await request(ctx.app).delete(`/v1/orgs/${ctx.root.org.id}`).set('Authorization', `Bearer ${token}`).expect(409);
      expect(remove.body.detail).toContain('the root organization cannot be deleted');
      expect(await orgRows()).toEqual(before);
      expect(await ctx.db.selectFrom('audit_events').select('id').execute()).toEqual(events);
      // Saying it is enabled is no change at all.
      await patch(ctx.root.org.id, { disabled: false }).expect(200);
      await ctx.exchange(ctx.rootCredentials).expect(200);
    });
  });
});
