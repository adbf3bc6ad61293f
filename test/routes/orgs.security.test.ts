import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommonAuthTests } from '../helpers/common-auth.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('/v1/orgs, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    // "Another org" here is an admin outside the root org: even holding admin.orgs:full, 403.
    describe('GET /v1/orgs', () => runCommonAuthTests(() => ctx, { method: 'get', path: () => '/v1/orgs', scope: 'admin.orgs:full', otherOrg: 403 }));
    describe('POST /v1/orgs', () =>
      runCommonAuthTests(() => ctx, { method: 'post', path: () => '/v1/orgs', body: { name: 'rogue' }, scope: 'admin.orgs:full', otherOrg: 403 }));

    it('refuses the admin of a non-root org with 403 naming admin.orgs:full, and creates nothing', async () => {
      const other = await ctx.createOrg('tenant');
      const token = await ctx.tokenOf({ orgId: other.org.id, keyId: other.key.id, secret: other.secret });
      const before = await ctx.db.selectFrom('orgs').select('id').execute();
      const res = await request(ctx.app).post('/v1/orgs').set('Authorization', `Bearer ${token}`).send({ name: 'rogue' }).expect(403);
      expect(res.body).toMatchObject({ code: 'insufficient_scope', required_scope: 'admin.orgs:full' });
      expect(await ctx.db.selectFrom('orgs').select('id').execute()).toEqual(before);
    });

    it('cannot be granted to a non-root org’s apps, so a tenant can never reach /v1/orgs', async () => {
      const other = await ctx.createOrg('climber');
      const token = await ctx.tokenOf({ orgId: other.org.id, keyId: other.key.id, secret: other.secret });
      const res = await request(ctx.app)
        .patch(`/v1/apps/${other.adminApp.id}`)
        .set('Authorization', `Bearer ${token}`)
        .send({ scopes: [...other.adminApp.scopes, 'admin.orgs:full'] })
        .expect(403);
      expect(res.body.forbidden_scopes).toEqual(['admin.orgs:full']);
    });
  });
});
