import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';

describe('GET /.well-known/jwks.json, errors', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
  });
  afterAll(async () => ctx?.close());

  it('answers 405 problem+json with Allow: GET, HEAD to other methods', async () => {
    const res = await request(ctx.app).post('/.well-known/jwks.json').send({}).expect(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'method_not_allowed', status: 405 });
  });

  it('answers 404 to paths that only begin like the JWKS path', async () => {
    for (const path of ['/.well-known/jwks.jsonx', '/.well-known/jwks.json.bak', '/.well-known/jwks', '/.well-known/jwks.json%00']) {
      const res = await request(ctx.app).get(path).expect(404);
      expect(res.body, path).toMatchObject({ code: 'not_found' });
    }
  });

  it('ignores query strings and garbage If-None-Match headers', async () => {
    const res = await request(ctx.app).get('/.well-known/jwks.json?x=1&x=2').set('If-None-Match', ',,W/,"').expect(200);
    expect(res.body.keys).toHaveLength(2);
  });
});
