import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('POST /oauth2/introspect, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let caller: string;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      caller = (await ctx.exchange(await ctx.createClient(['tokens:introspect'])).expect(200)).body.access_token;
    });
    afterAll(async () => ctx?.close());

    const introspect = (token: string, extra: Record<string, string> = {}, bearer = caller) =>
      request(ctx.app).post('/oauth2/introspect').set('Authorization', `Bearer ${bearer}`).type('form').send({ token, ...extra });

    it('describes an active token with every RFC 7662 member and the token’s own claims', async () => {
      const client = await ctx.createClient(['agents:edit', 'runtime:run']);
      const token = (await ctx.exchange(client).expect(200)).body.access_token;
      const res = await introspect(token).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
      const iat = Math.floor(ctx.clock.now() / 1000);
      expect(res.body).toEqual({
        active: true,
        scope: 'agents:edit agents:view runtime:run sessions:create',
        client_id: client.keyId,
        token_type: 'Bearer',
        exp: iat + 900,
        iat,
        sub: client.keyId,
        aud: 'http://scope-auth.test',
        iss: 'http://scope-auth.test',
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
        org_id: client.orgId,
        app_id: client.appId,
      });
    });

    it('describes a token issued by POST /oauth2/token with a narrowed scope and the app’s audience', async () => {
      const client = await ctx.createClient(['agents:full', 'tools:deploy'], { app: { audience: 'https://api.example.com', token_ttl_seconds: 120 } });
      const issued = await request(ctx.app)
        .post('/oauth2/token')
        .type('form')
        .auth(client.keyId, client.secret)
        .send({ grant_type: 'client_credentials', scope: 'agents:edit' })
        .expect(200);
      const res = await introspect(issued.body.access_token).expect(200);
      expect(res.body).toMatchObject({ active: true, scope: 'agents:edit agents:view', aud: 'https://api.example.com' });
      expect(res.body.exp - res.body.iat).toBe(120);
    });

    it('lets a caller introspect its own token', async () => {
      const res = await introspect(caller).expect(200);
      expect(res.body).toMatchObject({ active: true, scope: 'tokens:introspect' });
    });

    it('ignores token_type_hint and parameters it does not know', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const token = (await ctx.exchange(client).expect(200)).body.access_token;
      const res = await introspect(token, { token_type_hint: 'refresh_token', resource: 'https://x.example' }).expect(200);
      expect(res.body.active).toBe(true);
    });

    it('stays active until the token’s own expiry, then answers inactive', async () => {
      const client = await ctx.createClient(['tools:deploy'], { app: { token_ttl_seconds: 3600 } });
      const token = (await ctx.exchange(client).expect(200)).body.access_token;
      // A fresh caller token for each moment, so only the introspected token ages past its expiry.
      const callerAt = async () => (await ctx.exchange(await ctx.createClient(['tokens:introspect'])).expect(200)).body.access_token;
      ctx.clock.advance(3599_000);
      expect((await introspect(token, {}, await callerAt()).expect(200)).body.active).toBe(true);
      ctx.clock.advance(1000);
      expect((await introspect(token, {}, await callerAt()).expect(200)).body).toEqual({ active: false });
    });
  });
});
