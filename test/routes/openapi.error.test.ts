import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';

describe('GET /openapi.json, asked wrongly', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
  });
  afterAll(async () => ctx?.close());

  it('answers another method with 405 and Allow: GET, HEAD, as problem+json', async () => {
    const res = await request(ctx.app).post('/openapi.json').send({}).expect(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('method_not_allowed');
  });

  it('answers a stale If-None-Match with the whole document', async () => {
    const res = await request(ctx.app).get('/openapi.json').set('If-None-Match', '"stale"').expect(200);
    expect(res.body.openapi).toBe('3.1.1');
  });

  it('does not answer a path below it', async () => {
    const res = await request(ctx.app).get('/openapi.json/paths').expect(404);
    expect(res.body.code).toBe('not_found');
  });
});
