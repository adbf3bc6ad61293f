import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';

describe('GET /openapi.json and who may read it', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
  });
  afterAll(async () => ctx?.close());

  it('is public: no token is asked for, and a bad one changes nothing', async () => {
    const plain = await request(ctx.app).get('/openapi.json').expect(200);
    const withBadToken = await request(ctx.app).get('/openapi.json').set('Authorization', 'Bearer not-a-token').expect(200);
    expect(withBadToken.headers.etag).toBe(plain.headers.etag);
    expect(plain.headers['set-cookie']).toBeUndefined();
  });

  it('tells nothing of this deployment beyond the API: no issuer, org, key, database or secret', async () => {
    const text = (await request(ctx.app).get('/openapi.json').expect(200)).text;
    expect(text).not.toContain('scope-auth.test');
    expect(text).not.toContain(ctx.root.org.id);
    expect(text).not.toContain(ctx.rootCredentials.keyId);
    expect(text).not.toMatch(/secret_[A-Za-z0-9]{10,}/);
  });

  it('carries the security headers every answer has', async () => {
    const res = await request(ctx.app).get('/openapi.json').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});
