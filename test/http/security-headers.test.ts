import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';

// The same headers on every kind of answer, successful or not: nothing a browser could
// render, frame or sniff, and HTTPS from then on.
const EXPECTED = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
};

describe('security headers', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
  });
  afterAll(async () => ctx?.close());

  const responses = () => ({
    'a JWKS answer': request(ctx.app).get('/.well-known/jwks.json'),
    'a 304 JWKS answer': request(ctx.app).get('/.well-known/jwks.json').set('If-None-Match', '*'),
    'an issued token': ctx.exchange(ctx.rootCredentials),
    'a refused exchange': ctx.exchange({ ...ctx.rootCredentials, secret: `${ctx.rootCredentials.secret.slice(0, -1)}x` }),
    'an OAuth token error': request(ctx.app).post('/oauth2/token').type('form').send('grant_type=password'),
    'server metadata': request(ctx.app).get('/.well-known/oauth-authorization-server'),
    'an admin 401': request(ctx.app).get('/v1/apps'),
    'a 404 problem': request(ctx.app).get('/nowhere'),
    'a malformed JSON body': request(ctx.app).post('/v1/apps').type('json').send('{'),
    'the health check': request(ctx.app).get('/healthz'),
    'the metrics': request(ctx.app).get('/metrics'),
  });

  it('sets the API header set on every kind of response', async () => {
    for (const [what, pending] of Object.entries(responses())) {
      const res = await pending;
      expect(res.headers, what).toMatchObject(EXPECTED);
    }
  });

  it('sends none of the headers meant only for HTML documents, and no X-Powered-By', async () => {
    const res = await request(ctx.app).get('/.well-known/jwks.json').expect(200);
    for (const header of ['x-powered-by', 'x-xss-protection', 'x-dns-prefetch-control', 'x-download-options', 'origin-agent-cluster', 'x-permitted-cross-domain-policies']) {
      expect(res.headers[header], header).toBeUndefined();
    }
  });
});
