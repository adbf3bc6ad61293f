import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('GET /v1/scopes, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    describe('errors', () => {
      it('refuses query parameters', async () => {
        const { token } = await ctx.tokenFor(['admin.apps:view']);
        const res = await request(ctx.app).get('/v1/scopes?builtin=true').set('Authorization', `Bearer ${token}`).expect(400);
        expect(res.body.detail).toContain('builtin');
      });
    });

  });
});
