import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommonAuthTests } from '../helpers/common-auth.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('GET /v1/scopes, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    describe('security', () => {
      runCommonAuthTests(() => ctx, { method: 'get', path: () => '/v1/scopes', scope: 'admin.apps:view', heldWithout: ['tokens:introspect', 'agents:full'] });

      it('answers 403 to a token holding only catalogue scopes, naming the admin scopes', async () => {
        const { token } = await ctx.tokenFor(['agents:full', 'runtime:run']);
        const res = await request(ctx.app).get('/v1/scopes').set('Authorization', `Bearer ${token}`).expect(403);
        expect(res.body.detail).toContain('admin.audit:view');
      });
    });
  });
});
