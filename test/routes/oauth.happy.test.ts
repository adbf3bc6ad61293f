import { createLocalJWKSet, jwtVerify } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

/** RFC 6749 §2.3.1 encoding as strict clients do it: every non-unreserved character escaped, `_` included. */
const strictFormEncode = (s: string) => encodeURIComponent(s).replace(/[-_.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe.each(DIALECTS)('POST /oauth2/token, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    const post = () => request(ctx.app).post('/oauth2/token').type('form');

    async function verify(token: string) {
      const jwks = JSON.parse((await request(ctx.app).get('/.well-known/jwks.json')).text);
      return jwtVerify(token, createLocalJWKSet(jwks), { issuer: 'http://scope-auth.test', typ: 'at+jwt', currentDate: new Date(ctx.clock.now()) });
    }

    it('issues a token to a client authenticating with HTTP Basic (client_secret_basic)', async () => {
      const client = await ctx.createClient(['agents:edit', 'runtime:run']);
      const res = await post().set('Authorization', basic(client.keyId, client.secret)).send('grant_type=client_credentials').expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['pragma']).toBe('no-cache');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
        scope: 'agents:edit agents:view runtime:run sessions:create',
      });
      const { payload, protectedHeader } = await verify(res.body.access_token);
      expect(protectedHeader.typ).toBe('at+jwt');
      expect(payload).toMatchObject({
        sub: client.keyId,
        client_id: client.keyId,
        org_id: client.orgId,
        app_id: client.appId,
        aud: 'http://scope-auth.test',
        scope: res.body.scope,
      });
    });

    it('issues a token to a client sending its credentials in the body (client_secret_post)', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const res = await post()
        .send({ grant_type: 'client_credentials', client_id: client.keyId, client_secret: client.secret })
        .expect(200);
      expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900, scope: 'tools:deploy' });
      expect((await verify(res.body.access_token)).payload.client_id).toBe(client.keyId);
    });

    it('takes the org from the key: a key of another org gets a token of that org', async () => {
      const acme = await ctx.createOrg('acme');
      const client = await ctx.createClient(['tools:deploy'], { orgId: acme.org.id });
      const res = await post().auth(client.keyId, client.secret).send('grant_type=client_credentials').expect(200);
      expect((await verify(res.body.access_token)).payload.org_id).toBe(acme.org.id);
    });

    it('percent-decodes Basic credentials that were form-urlencoded before base64', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const header = basic(strictFormEncode(client.keyId), strictFormEncode(client.secret));
      expect(header).not.toBe(basic(client.keyId, client.secret));
      await post().set('Authorization', header).send('grant_type=client_credentials').expect(200);
    });

    it('narrows the token to the requested scope, expanded and sorted', async () => {
      const client = await ctx.createClient(['agents:full', 'runtime:run', 'tools:deploy']);
      const res = await post()
        .auth(client.keyId, client.secret)
        .send({ grant_type: 'client_credentials', scope: 'runtime:run agents:edit' })
        .expect(200);
      expect(res.body.scope).toBe('agents:edit agents:view runtime:run sessions:create');
      expect((await verify(res.body.access_token)).payload.scope).toBe(res.body.scope);
    });

    it('treats an empty scope parameter as omitted and grants everything the app holds', async () => {
      const client = await ctx.createClient(['agents:view', 'tools:deploy']);
      const res = await post().auth(client.keyId, client.secret).send('grant_type=client_credentials&scope=').expect(200);
      expect(res.body.scope).toBe('agents:view tools:deploy');
    });

    it('accepts client_id repeated in the body next to Basic credentials for the same client', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await post().auth(client.keyId, client.secret).send({ grant_type: 'client_credentials', client_id: client.keyId }).expect(200);
    });

    it('ignores parameters it does not know, as RFC 6749 §3.2 requires', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await post()
        .auth(client.keyId, client.secret)
        .send({ grant_type: 'client_credentials', audience: 'https://elsewhere.example', resource: 'x' })
        .expect(200);
    });

    it('accepts a charset parameter on the content type', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await request(ctx.app)
        .post('/oauth2/token')
        .set('Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8')
        .auth(client.keyId, client.secret)
        .send('grant_type=client_credentials')
        .expect(200);
    });

    it('never returns a refresh token', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const res = await post().auth(client.keyId, client.secret).send('grant_type=client_credentials').expect(200);
      expect(res.body).not.toHaveProperty('refresh_token');
    });

    it("uses the app's audience and lifetime like /v1/token", async () => {
      const client = await ctx.createClient(['tools:deploy'], { app: { audience: 'https://api.example.com', token_ttl_seconds: 120 } });
      const res = await post().auth(client.keyId, client.secret).send('grant_type=client_credentials').expect(200);
      expect(res.body.expires_in).toBe(120);
      const { payload } = await verify(res.body.access_token);
      expect(payload.aud).toBe('https://api.example.com');
      expect(payload.exp! - payload.iat!).toBe(120);
    });

    it('records last use on the key, as every exchange does', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await post().auth(client.keyId, client.secret).send('grant_type=client_credentials').expect(200);
      await ctx.exchange(client).expect(200);
      await ctx.deps.lastUsed.flush();
      const row = await ctx.db.selectFrom('api_keys').selectAll().where('id', '=', client.keyId).executeTakeFirstOrThrow();
      expect(row.use_count).toBe(2);
      expect(row.last_used_at).toBe(ctx.clock.now());
    });
  });
});
