import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('GET /openapi.json', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
  });
  afterAll(async () => ctx?.close());

  it('serves the OpenAPI 3.1 document, the one checked in as docs/openapi.json', async () => {
    const res = await request(ctx.app).get('/openapi.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.openapi).toBe('3.1.1');
    expect(res.body).toEqual(JSON.parse(readFileSync(join(ROOT, 'docs/openapi.json'), 'utf8')));
  });

  it('is cacheable by anybody, with an ETag, and answers 304 to a client that has it', async () => {
    const res = await request(ctx.app).get('/openapi.json').expect(200);
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers.etag).toMatch(/^"[\w-]{27}"$/);
    const again = await request(ctx.app).get('/openapi.json').set('If-None-Match', res.headers.etag!).expect(304);
    expect(again.text).toBe('');
  });

  it('describes this deployment: an app’s token_ttl_seconds is bounded by SCOPE_AUTH_TOKEN_TTL_MAX', async () => {
    const other = await createTestContext({ dialect: 'sqlite', env: { SCOPE_AUTH_TOKEN_TTL_MAX: '3600' } });
    try {
      const res = await request(other.app).get('/openapi.json').expect(200);
      const body = res.body.paths['/v1/apps'].post.requestBody.content['application/json'].schema;
      expect(body.properties.token_ttl_seconds.anyOf[0]).toMatchObject({ minimum: 60, maximum: 3600 });
    } finally {
      await other.close();
    }
  });
});
