// A known path asked with a method it does not take: 405 and `Allow`, on every path the
// server answers (read from the app itself, so a route added later is covered too).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const OAUTH_PATHS = ['/v1/token', '/oauth2/token'];

/** A concrete request path for a route pattern: `:app_id` → an app id that looks real. */
function concrete(path: string): string {
  return path.replace(/:(\w+?)_id\b/g, (_m, kind: string) => `${kind}_01J00000000000000000000000`).replace(/:\w+/g, 'x');
}

describe('methods a known path does not take', () => {
  let ctx: TestContext;
  let token: string;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
    token = await ctx.tokenOf(ctx.rootCredentials);
  });
  afterAll(async () => ctx?.close());

  const send = (method: string, path: string) => request(ctx.app)[method.toLowerCase() as 'get'](path);

  it('knows every path of the API with the methods it takes', () => {
    const known = Object.fromEntries(ctx.app.knownPaths.map((p) => [p.path, p.methods.join(', ')]));
    expect(known).toMatchObject({
      '/v1/token': 'POST',
      '/oauth2/token': 'POST',
      '/oauth2/introspect': 'POST',
      '/.well-known/jwks.json': 'GET, HEAD',
      '/.well-known/oauth-authorization-server': 'GET, HEAD',
      '/openapi.json': 'GET, HEAD',
      '/healthz': 'GET, HEAD',
      '/readyz': 'GET, HEAD',
      '/metrics': 'GET, HEAD',
      '/v1/scopes': 'GET, HEAD',
      '/v1/apps': 'GET, HEAD, POST',
      '/v1/apps/:app_id': 'GET, HEAD, PATCH, DELETE',
      '/v1/apps/:app_id/keys': 'GET, HEAD, POST',
      '/v1/keys': 'GET, HEAD',
      '/v1/keys/:key_id': 'GET, HEAD, DELETE',
      '/v1/keys/:key_id/revoke': 'POST',
      '/v1/keys/:key_id/roll': 'POST',
      '/v1/audit': 'GET, HEAD',
      '/v1/orgs': 'GET, HEAD, POST',
    });
  });

  it('answers 405 with Allow on every known path, for every other method, before asking for a token', async () => {
    const seen: string[] = [];
    for (const known of ctx.app.knownPaths) {
      for (const method of METHODS.filter((m) => !known.methods.includes(m))) {
        for (const authorization of [undefined, `Bearer ${token}`]) {
          const req = send(method, concrete(known.path));
          const res = await (authorization === undefined ? req : req.set('Authorization', authorization));
          const where = `${method} ${known.path}${authorization ? ' with a token' : ''}`;
          expect(res.status, where).toBe(405);
          expect(res.headers.allow, where).toBe(known.methods.join(', '));
          seen.push(where);
        }
      }
    }
    expect(seen.length).toBeGreaterThan(50);
  });

  it('answers the token endpoints in the OAuth error shape, never cached', async () => {
    for (const path of OAUTH_PATHS) {
      const res = await request(ctx.app).get(`${path}?x=1`).expect(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ error: 'invalid_request', error_description: `GET is not allowed on ${path}; allowed: POST` });
    }
  });

  it('answers every other path in problem+json', async () => {
    const res = await request(ctx.app).put('/v1/apps/app_01J00000000000000000000000').send({}).expect(405);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'urn:scope-auth:problem:method_not_allowed',
      title: 'Method not allowed',
      status: 405,
      code: 'method_not_allowed',
      detail: 'PUT is not allowed on /v1/apps/app_01J00000000000000000000000; allowed: GET, HEAD, PATCH, DELETE',
    });
  });

  it('answers OPTIONS with 204 and Allow', async () => {
    const res = await request(ctx.app).options('/v1/keys/key_01J00000000000000000000000').expect(204);
    expect(res.headers.allow).toBe('GET, HEAD, DELETE');
    expect((await request(ctx.app).options('/v1/token').expect(204)).headers.allow).toBe('POST');
  });

  it('still serves the methods a path takes, and answers 404 for paths it does not know', async () => {
    await request(ctx.app).head('/healthz').expect(200);
    await request(ctx.app).head('/.well-known/jwks.json').expect(200);
    await request(ctx.app).get('/v1/apps').set('Authorization', `Bearer ${token}`).expect(200);
    for (const path of ['/v1/tokens', '/v1/token/', '/v1/apps/app_01J00000000000000000000000/nothing', '/nowhere']) {
      const res = await request(ctx.app).put(path).set('Authorization', `Bearer ${token}`).expect(404);
      expect(res.headers.allow, path).toBeUndefined();
    }
  });

  it('answers a malformed escape in a path parameter with 400, not 500', async () => {
    const res = await request(ctx.app).get('/v1/apps/%E0').set('Authorization', `Bearer ${token}`).expect(400);
    expect(res.body).toMatchObject({ code: 'invalid_request', detail: 'the path holds a malformed percent-escape' });
  });
});
