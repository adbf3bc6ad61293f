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
  });
});
