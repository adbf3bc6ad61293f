// POST /v1/token and POST /oauth2/token are answered before express (src/http/raw-routes.ts):
// the HTTP rules that express's body parsers and its client address enforced there must hold
// all the same.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';

describe('the token endpoints, the HTTP rules of their raw routes', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
  });
  afterAll(async () => ctx?.close());

  const body = () => {
    const { orgId, keyId, secret } = ctx.rootCredentials;
    return JSON.stringify({ org_id: orgId, key_id: keyId, secret });
  };

  it('accepts application/json in any case, with a UTF-8 charset, and a query string', async () => {
    for (const type of ['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"']) {
      const res = await request(ctx.app).post('/v1/token?client=sdk').set('Content-Type', type).send(body());
      expect(res.status, type).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['pragma']).toBe('no-cache');
    }
  });

  it('refuses a compressed body with 415, and another charset or a JSON-like type with 400, all as invalid_request', async () => {
    const cases: Array<[Record<string, string>, string | Buffer, number, string]> = [
      [{ 'Content-Type': 'application/json; charset=iso-8859-1' }, body(), 400, 'unsupported body encoding or charset'],
      [{ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, gzipSync(body()), 415, 'the body must not be compressed: no Content-Encoding is accepted'],
      [{ 'Content-Type': 'application/jsonx' }, body(), 400, 'the body must be application/json'],
      [{ 'Content-Type': 'text/plain' }, body(), 400, 'the body must be application/json'],
    ];
    for (const [headers, payload, status, description] of cases) {
      const res = await request(ctx.app).post('/v1/token').set(headers).send(payload);
      expect(res.status, JSON.stringify(headers)).toBe(status);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: description });
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('refuses JSON that is not an object or array, and reads an empty JSON body as an empty object', async () => {
    for (const payload of ['"org_x"', '42', 'null', 'true']) {
      const res = await request(ctx.app).post('/v1/token').set('Content-Type', 'application/json').send(payload).expect(400);
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the request body is not valid JSON' });
    }
    const empty = await request(ctx.app).post('/v1/token').set('Content-Type', 'application/json').send('').expect(400);
    expect(empty.body.error_description).toContain('org_id');
  });

  it('holds POST /oauth2/token to the same body rules, for a form', async () => {
    const { keyId, secret } = ctx.rootCredentials;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: keyId, client_secret: secret }).toString();
    await request(ctx.app).post('/oauth2/token?x=1').set('Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8').send(form).expect(200);
    const latin = await request(ctx.app).post('/oauth2/token').set('Content-Type', 'application/x-www-form-urlencoded; charset=iso-8859-1').send(form).expect(400);
    expect(latin.body).toEqual({ error: 'invalid_request', error_description: 'unsupported body encoding or charset' });
    const gzipped = await request(ctx.app)
      .post('/oauth2/token')
      .set({ 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'gzip' })
      .send(gzipSync(form))
      .expect(415);
    expect(gzipped.body.error).toBe('invalid_request');
    expect(gzipped.headers['cache-control']).toBe('no-store');
  });

  describe('over a real connection', () => {
    let server: Server;
    let port: number;
    beforeAll(async () => {
      server = createServer(ctx.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    /** Sends a chunked body (no Content-Length) of `size` bytes and returns status, headers and body. */
    function chunked(size: number): Promise<{ status: number; connection: string | undefined; body: string }> {
      return new Promise((resolve, reject) => {
        const req = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/v1/token', headers: { 'Content-Type': 'application/json' } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: text }));
        });
        req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
        const chunk = Buffer.alloc(16 * 1024, 0x20);
        req.write('{"org_id":"');
        for (let sent = 0; sent < size; sent += chunk.length) req.write(chunk);
        req.end('"}');
      });
    }

    it('refuses a chunked body over 64 KiB with 413 and closes the connection instead of reading on', async () => {
      const res = await chunked(1024 * 1024);
      expect(res.status).toBe(413);
      expect(res.connection).toBe('close');
      expect(JSON.parse(res.body)).toEqual({ error: 'invalid_request', error_description: 'the request body exceeds 64 KiB' });
    });

    it('answers an absolute-form request target (as a forward proxy sends it) like any other', async () => {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          { port, host: '127.0.0.1', method: 'POST', path: `http://127.0.0.1:${port}/v1/token`, headers: { 'Content-Type': 'application/json' } },
          (response) => {
            let text = '';
            response.on('data', (chunk: Buffer) => (text += chunk.toString()));
            response.on('end', () => resolve({ status: response.statusCode!, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body());
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ token_type: 'Bearer' });
    });

    it('still answers a chunked body under the limit', async () => {
      const res = await chunked(32 * 1024);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error_description).toMatch(/^org_id: /);
    });
  });

  it('leaves other methods on the path to express, which answers 405 with Allow: POST and the OAuth error body', async () => {
    for (const method of ['get', 'put', 'delete'] as const) {
      const res = await request(ctx.app)[method]('/v1/token').expect(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.body.error).toBe('invalid_request');
    }
    await request(ctx.app).post('/v1/tokens').set('Content-Type', 'application/json').send(body()).expect(404);
  });
});

describe.each([
  { trust: 'false', forwarded: '203.0.113.7', expected: /127\.0\.0\.1/ },
  { trust: 'loopback', forwarded: '203.0.113.7', expected: /^203\.0\.113\.7$/ },
  { trust: '1', forwarded: '198.51.100.1, 203.0.113.7', expected: /^203\.0\.113\.7$/ },
])('the client address under SCOPE_AUTH_TRUST_PROXY=$trust', ({ trust, forwarded, expected }) => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite', env: { SCOPE_AUTH_TRUST_PROXY: trust } });
  });
  afterAll(async () => ctx?.close());

  it('is the same for the token endpoints (raw routes) as for the admin API (express)', async () => {
    const viaJson = await ctx.createClient(['tools:deploy']);
    const viaOAuth = await ctx.createClient(['tools:deploy']);
    await request(ctx.app)
      .post('/v1/token')
      .set('X-Forwarded-For', forwarded)
      .send({ org_id: viaJson.orgId, key_id: viaJson.keyId, secret: viaJson.secret })
      .expect(200);
    await request(ctx.app)
      .post('/oauth2/token')
      .set('X-Forwarded-For', forwarded)
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: viaOAuth.keyId, client_secret: viaOAuth.secret })
      .expect(200);
    await ctx.deps.lastUsed.flush();
    const rows = await ctx.db.selectFrom('api_keys').select(['id', 'last_used_ip']).where('id', 'in', [viaJson.keyId, viaOAuth.keyId]).execute();
    const ips = Object.fromEntries(rows.map((row) => [row.id, row.last_used_ip]));
    expect(ips[viaJson.keyId]).toMatch(expected);
    expect(ips[viaOAuth.keyId]).toBe(ips[viaJson.keyId]);

    // An admin call on express: the audit event of a revocation names the caller's address.
    const admin = await ctx.tokenFor(['admin.apps:edit'], { orgId: viaJson.orgId });
    await request(ctx.app)
      .post(`/v1/keys/${viaJson.keyId}/revoke`)
      .set('Authorization', `Bearer ${admin.token}`)
      .set('X-Forwarded-For', forwarded)
      .send({})
      .expect(200);
    const event = await ctx.db
      .selectFrom('audit_events')
      .select('ip')
      .where('action', '=', 'key.revoked')
      .where('target_id', '=', viaJson.keyId)
      .executeTakeFirstOrThrow();
    expect(event.ip).toBe(ips[viaJson.keyId]);
  });
});
