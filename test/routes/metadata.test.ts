import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

const PATH = '/.well-known/oauth-authorization-server';

describe.each(DIALECTS)('GET /.well-known/oauth-authorization-server on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    it('publishes RFC 8414 metadata whose issuer is exactly SCOPE_AUTH_ISSUER', async () => {
      const res = await request(ctx.app).get(PATH).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        issuer: 'http://scope-auth.test',
        token_endpoint: 'http://scope-auth.test/oauth2/token',
        jwks_uri: 'http://scope-auth.test/.well-known/jwks.json',
        scopes_supported: ctx.deps.catalog.scopes,
        response_types_supported: [],
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        introspection_endpoint: 'http://scope-auth.test/oauth2/introspect',
        introspection_endpoint_auth_methods_supported: ['Bearer'],
      });
    });

    it('lists every scope of the catalogue, built-ins included', async () => {
      const { scopes_supported } = (await request(ctx.app).get(PATH).expect(200)).body;
      expect(scopes_supported).toEqual(expect.arrayContaining(['agents:view', 'runtime:run', 'sessions:create', 'admin.apps:full', 'tokens:introspect']));
    });

    it('names endpoints that answer at those paths on this server', async () => {
      const metadata = (await request(ctx.app).get(PATH).expect(200)).body;
      const path = (url: string) => new URL(url).pathname;
      await request(ctx.app).get(path(metadata.jwks_uri)).expect(200);
      const client = await ctx.createClient(['tools:deploy', 'tokens:introspect']);
      const issued = await request(ctx.app)
        .post(path(metadata.token_endpoint))
        .type('form')
        .auth(client.keyId, client.secret)
        .send('grant_type=client_credentials')
        .expect(200);
      const introspected = await request(ctx.app)
        .post(path(metadata.introspection_endpoint))
        .set('Authorization', `Bearer ${issued.body.access_token}`)
        .type('form')
        .send({ token: issued.body.access_token })
        .expect(200);
      expect(introspected.body.iss).toBe(metadata.issuer);
    });

    it('may be cached publicly, carries an ETag and answers 304 to a matching If-None-Match', async () => {
      const res = await request(ctx.app).get(PATH).expect(200);
      expect(res.headers['cache-control']).toBe('public, max-age=3600');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      const etag = res.headers['etag'];
      expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
      const again = await request(ctx.app).get(PATH).set('If-None-Match', etag!).expect(304);
      expect(again.text).toBe('');
      expect(again.headers['etag']).toBe(etag);
      await request(ctx.app).get(PATH).set('If-None-Match', '"something-else"').expect(200);
    });

    it('is not served under the OpenID Connect discovery path, which this server does not implement', async () => {
      await request(ctx.app).get('/.well-known/openid-configuration').expect(404);
    });
  });
});

describe('GET /.well-known/oauth-authorization-server with an issuer path and a custom catalogue', () => {
  let ctx: TestContext;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scope-auth-metadata-'));
    const catalog = join(dir, 'scopes.json');
    writeFileSync(catalog, JSON.stringify({ permissions: [{ name: 'reports:read' }, { name: 'reports:write', implies: ['reports:read'] }] }));
    ctx = await createTestContext({
      dialect: 'sqlite',
      env: { SCOPE_AUTH_ISSUER: 'https://auth.example.com/tenant:a(1)', SCOPE_AUTH_CATALOG: catalog },
    });
  });
  afterAll(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the operator’s scopes and the built-ins, nothing from the default catalogue', async () => {
    const { scopes_supported } = (await request(ctx.app).get(PATH).expect(200)).body;
    expect(scopes_supported).toEqual([
      'admin.apps:edit',
      'admin.apps:full',
      'admin.apps:view',
      'admin.audit:view',
      'admin.orgs:full',
      'admin.users:full',
      'admin.webhooks:full',
      'admin.webhooks:view',
      'reports:read',
      'reports:write',
      'tokens:introspect',
    ]);
  });

  it('keeps the issuer path in every URL and also answers at the RFC 8414 §3.1 path-suffixed location', async () => {
    const plain = (await request(ctx.app).get(PATH).expect(200)).body;
    expect(plain).toMatchObject({
      issuer: 'https://auth.example.com/tenant:a(1)',
      token_endpoint: 'https://auth.example.com/tenant:a(1)/oauth2/token',
      jwks_uri: 'https://auth.example.com/tenant:a(1)/.well-known/jwks.json',
      introspection_endpoint: 'https://auth.example.com/tenant:a(1)/oauth2/introspect',
    });
    const suffixed = (await request(ctx.app).get(`${PATH}/tenant:a(1)`).expect(200)).body;
    expect(suffixed).toEqual(plain);
    await request(ctx.app).get(`${PATH}/tenant:b(1)`).expect(404);
  });
});
