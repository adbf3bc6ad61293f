import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintAccessToken } from '../../src/domain/tokens.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('POST /oauth2/introspect, errors and inactive tokens on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    /** A fresh token holding tokens:introspect, so the caller itself is valid at the current test time. */
    async function callerToken(): Promise<string> {
      return (await ctx.exchange(await ctx.createClient(['tokens:introspect'])).expect(200)).body.access_token;
    }
    async function introspect(token: string) {
      return request(ctx.app).post('/oauth2/introspect').set('Authorization', `Bearer ${await callerToken()}`).type('form').send({ token });
    }
    async function issued(scopes = ['tools:deploy'], ttl = 900) {
      const client = await ctx.createClient(scopes, { app: { token_ttl_seconds: ttl } });
      const token = (await ctx.exchange(client).expect(200)).body.access_token as string;
      return { client, token };
    }
    /** Asserts the token is active now, so a later inactive answer is due to what the test changed. */
    async function expectActive(token: string) {
      expect((await (await introspect(token)).body).active).toBe(true);
    }
    async function expectInactive(token: string) {
      const res = await introspect(token);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ active: false });
    }
    /** The admin API as an org admin would call it, with a fresh root admin token. */
    async function admin(method: 'post' | 'delete', path: string) {
      const token = await ctx.tokenOf(ctx.rootCredentials);
      const req = request(ctx.app)[method](path).set('Authorization', `Bearer ${token}`);
      return (method === 'post' ? req.send({}) : req).expect(method === 'post' ? 200 : 204);
    }
    function claimsOf(token: string): JWTPayload {
      return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as JWTPayload;
    }

    describe('malformed requests are invalid_request (400) problems', () => {
      it('refuses a request without the token parameter', async () => {
        const res = await request(ctx.app)
          .post('/oauth2/introspect')
          .set('Authorization', `Bearer ${await callerToken()}`)
          .type('form')
          .send('token_type_hint=access_token')
          .expect(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body).toMatchObject({ status: 400, code: 'invalid_request', detail: 'the token parameter is required' });
      });

      it('refuses an empty token parameter as missing', async () => {
        const res = await request(ctx.app)
          .post('/oauth2/introspect')
          .set('Authorization', `Bearer ${await callerToken()}`)
          .type('form')
          .send('token=')
          .expect(400);
        expect(res.body.detail).toBe('the token parameter is required');
      });

      it('refuses a JSON body', async () => {
        const { token } = await issued();
        const res = await request(ctx.app)
          .post('/oauth2/introspect')
          .set('Authorization', `Bearer ${await callerToken()}`)
          .send({ token })
          .expect(400);
        expect(res.body).toMatchObject({ code: 'invalid_request', detail: 'the body must be application/x-www-form-urlencoded' });
      });

      it('refuses the token parameter given twice', async () => {
        const { token } = await issued();
        const res = await request(ctx.app)
          .post('/oauth2/introspect')
          .set('Authorization', `Bearer ${await callerToken()}`)
          .type('form')
          .send(`token=${token}&token=${token}`)
          .expect(400);
        expect(res.body).toMatchObject({ code: 'invalid_request', detail: 'the parameter token is repeated' });
      });

      it('refuses a body over 64 KiB with 413, not 500', async () => {
        const res = await request(ctx.app)
          .post('/oauth2/introspect')
          .set('Authorization', `Bearer ${await callerToken()}`)
          .type('form')
          .send(`token=${'x'.repeat(70_000)}`)
          .expect(413);
        expect(res.body).toMatchObject({ code: 'payload_too_large' });
      });
    });

    describe('anything but a live token of this server answers active:false and nothing else', () => {
      it('for an expired token', async () => {
        const { token } = await issued();
        await expectActive(token);
        ctx.clock.advance(900_000);
        await expectInactive(token);
      });

      it.each(['not-a-jwt', 'a.b.c', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'x'.repeat(9000)])('for the malformed token %#', async (token) => {
        await expectInactive(token);
      });

      it('for a token signed by a foreign key under this server’s kid', async () => {
        const { token } = await issued();
        const { privateKey } = await generateKeyPair('ES256');
        const forged = await new SignJWT(claimsOf(token))
          .setProtectedHeader({ alg: 'ES256', kid: ctx.deps.keyring.signingKey().kid, typ: 'at+jwt' })
          .sign(privateKey);
        await expectInactive(forged);
      });

      it('for a token signed by a foreign key with an unknown kid', async () => {
        const { token } = await issued();
        const { privateKey } = await generateKeyPair('ES256');
        const forged = await new SignJWT(claimsOf(token)).setProtectedHeader({ alg: 'ES256', kid: 'foreign', typ: 'at+jwt' }).sign(privateKey);
        await expectInactive(forged);
      });

      it('for a token of this server’s key but another issuer', async () => {
        const { client } = await issued();
        const token = await mintAccessToken(ctx.deps.keyring.signingKey(), {
          issuer: 'https://impostor.example',
          audience: 'http://scope-auth.test',
          keyId: client.keyId,
          orgId: client.orgId,
          appId: client.appId,
          scopes: ['tools:deploy'],
          ttlSeconds: 900,
          nowMs: ctx.clock.now(),
        });
        await expectInactive(token);
      });

      it('for a JWT of this server’s key that is not an access token (typ)', async () => {
        const { token } = await issued();
        const key = ctx.deps.keyring.signingKey();
        const idToken = await new SignJWT(claimsOf(token)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
        await expectInactive(idToken);
      });

      it('for a token whose key has since been revoked (POST /v1/keys/{id}/revoke)', async () => {
        const { client, token } = await issued();
        await expectActive(token);
        await admin('post', `/v1/keys/${client.keyId}/revoke`);
        await expectInactive(token);
      });

      it('for a token whose key has since been deleted (DELETE /v1/keys/{id})', async () => {
        const { client, token } = await issued();
        await expectActive(token);
        await admin('delete', `/v1/keys/${client.keyId}`);
        await expectInactive(token);
      });

      it('for a token whose key has since expired, though the token has not', async () => {
        const app = await ctx.createApp(ctx.root.org.id, ['tools:deploy'], { token_ttl_seconds: 3600 });
        const { key, secret } = await ctx.createKey(ctx.root.org.id, app.id, { expiresAt: ctx.clock.now() + 60_000 });
        const token = (await ctx.exchange({ orgId: ctx.root.org.id, keyId: key.id, secret }).expect(200)).body.access_token;
        await expectActive(token);
        ctx.clock.advance(60_000);
        await expectInactive(token);
      });

      it('for a token whose app has since been deleted (DELETE /v1/apps/{id})', async () => {
        const { client, token } = await issued();
        await expectActive(token);
        await admin('delete', `/v1/apps/${client.appId}`);
        await expectInactive(token);
      });

      it('for a token whose app was soft-deleted behind the API’s back (deleted_at set on the row)', async () => {
        const { client, token } = await issued();
        await expectActive(token);
        await ctx.db.updateTable('apps').set({ deleted_at: ctx.clock.now() }).where('id', '=', client.appId).execute();
        await expectInactive(token);
      });
    });
  });
});
