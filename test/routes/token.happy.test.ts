import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('POST /v1/token, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    async function verify(token: string) {
      const jwks = JSON.parse((await request(ctx.app).get('/.well-known/jwks.json')).text);
      return jwtVerify(token, createLocalJWKSet(jwks), {
        issuer: 'http://scope-auth.test',
        typ: 'at+jwt',
        currentDate: new Date(ctx.clock.now()),
      });
    }

    it('exchanges valid credentials for a token that verifies against the JWKS', async () => {
      const client = await ctx.createClient(['agents:edit', 'runtime:run']);
      const res = await ctx.exchange(client).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['pragma']).toBe('no-cache');
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'Bearer',
        expires_in: 900,
        scope: 'agents:edit agents:view runtime:run sessions:create',
      });
      const { payload, protectedHeader } = await verify(res.body.access_token);
      expect(protectedHeader).toEqual({ alg: 'ES256', kid: expect.any(String), typ: 'at+jwt' });
      expect(protectedHeader.kid).toBe(ctx.deps.keyring.signingKey().kid);
      expect(payload).toEqual({
        iss: 'http://scope-auth.test',
        sub: client.keyId,
        client_id: client.keyId,
        aud: 'http://scope-auth.test',
        iat: Math.floor(ctx.clock.now() / 1000),
        exp: Math.floor(ctx.clock.now() / 1000) + 900,
        jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
        scope: 'agents:edit agents:view runtime:run sessions:create',
        org_id: client.orgId,
        app_id: client.appId,
      });
    });

    it('issues tokens with a unique jti each time', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const a = await ctx.exchange(client).expect(200);
      const b = await ctx.exchange(client).expect(200);
      const jti = async (t: string) => (await verify(t)).payload.jti;
      expect(await jti(a.body.access_token)).not.toBe(await jti(b.body.access_token));
    });

    it('narrows the token to the requested scopes, expanded', async () => {
      const client = await ctx.createClient(['agents:full', 'runtime:run', 'tools:deploy']);
      const res = await ctx.exchange(client, 'agents:edit runtime:run').expect(200);
      expect(res.body.scope).toBe('agents:edit agents:view runtime:run sessions:create');
      expect((await verify(res.body.access_token)).payload.scope).toBe(res.body.scope);
    });

    it("uses the app's audience and token lifetime when set", async () => {
      const client = await ctx.createClient(['tools:deploy'], { app: { audience: 'https://api.example.com', token_ttl_seconds: 120 } });
      const res = await ctx.exchange(client).expect(200);
      expect(res.body.expires_in).toBe(120);
      const { payload } = await verify(res.body.access_token);
      expect(payload.aud).toBe('https://api.example.com');
      expect(payload.exp! - payload.iat!).toBe(120);
    });

    it('clamps an app lifetime to the configured maximum and the 60 s floor', async () => {
      const long = await ctx.createClient(['tools:deploy'], { app: { token_ttl_seconds: 99_999 } });
      expect((await ctx.exchange(long).expect(200)).body.expires_in).toBe(3600);
      const short = await ctx.createClient(['tools:deploy'], { app: { token_ttl_seconds: 5 } });
      expect((await ctx.exchange(short).expect(200)).body.expires_in).toBe(60);
    });

    it('records last use, client ip and use count after the batch flush', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await ctx.exchange(client).expect(200);
      await ctx.exchange(client).expect(200);
      await ctx.deps.lastUsed.flush();
      const row = await ctx.db.selectFrom('api_keys').selectAll().where('id', '=', client.keyId).executeTakeFirstOrThrow();
      expect(row.use_count).toBe(2);
      expect(row.last_used_at).toBe(ctx.clock.now());
      expect(row.last_used_ip).toMatch(/127\.0\.0\.1/);
    });

    it('signs with the current key, whose kid is the RFC 7638 thumbprint', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const res = await ctx.exchange(client).expect(200);
      const jwks = JSON.parse((await request(ctx.app).get('/.well-known/jwks.json')).text);
      const { calculateJwkThumbprint } = await import('jose');
      const kid = decodeProtectedHeader(res.body.access_token).kid;
      const jwk = jwks.keys.find((k: { kid: string }) => k.kid === kid);
      expect(await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y })).toBe(kid);
    });
  });
});
