// One token, one spelling: the admin API and introspection accept an access token only as
// compact JWS in three unpadded base64url parts. jose alone accepts `=` padding and
// whitespace inside the parts, so the same token could be presented (and logged, compared,
// blocked) under many strings.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('canonical access tokens on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let token: string;
    let introspector: string;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      token = (await ctx.tokenFor(['admin.apps:view'])).token;
      introspector = (await ctx.tokenFor(['tokens:introspect'])).token;
    });
    afterAll(async () => ctx?.close());

    const variants = () => {
      const [h, p, s] = token.split('.') as [string, string, string];
      return {
        'a padded signature': `${h}.${p}.${s}==`,
        'a padded payload': `${h}.${p}=.${s}`,
        'a space inside the signature': `${h}.${p}.${s.slice(0, 10)} ${s.slice(10)}`,
        'a tab inside the payload': `${h}.${p.slice(0, 5)}\t${p.slice(5)}.${s}`,
      };
    };

    it('accepts the token as issued', async () => {
      await request(ctx.app).get('/v1/apps').set('Authorization', `Bearer ${token}`).expect(200);
      const res = await request(ctx.app).post('/oauth2/introspect').set('Authorization', `Bearer ${introspector}`).type('form').send({ token }).expect(200);
      expect(res.body.active).toBe(true);
    });

    it('refuses any other spelling of it on the admin API', async () => {
      const [h, p, s] = token.split('.') as [string, string, string];
      const res = await request(ctx.app).get('/v1/apps').set('Authorization', `Bearer ${h}.${p}.${s}==`);
      expect(res.status).toBe(401);
    });

    it.each(['a padded signature', 'a padded payload', 'a space inside the signature', 'a tab inside the payload'] as const)(
      'answers active:false to introspection of the token with %s',
      async (variant) => {
        const res = await request(ctx.app)
          .post('/oauth2/introspect')
          .set('Authorization', `Bearer ${introspector}`)
          .type('form')
          .send({ token: variants()[variant] })
          .expect(200);
        expect(res.body).toEqual({ active: false });
      },
    );
  });
});
