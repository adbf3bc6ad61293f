// Bodies no route reads: a content coding is 415 and an oversize declared length 413, on
// every route that takes a body, decided from the headers before a byte of the body is read.
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';

const OAUTH_PATHS = ['/v1/token', '/oauth2/token'];
const BODY_METHODS = ['POST', 'PUT', 'PATCH'];

function concrete(path: string): string {
  return path.replace(/:(\w+?)_id\b/g, (_m, kind: string) => `${kind}_01J00000000000000000000000`).replace(/:\w+/g, 'x');
}

describe('request bodies refused by their headers', () => {
  let ctx: TestContext;
  let token: string;
  let server: Server;
  let port: number;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
    token = await ctx.tokenOf(ctx.rootCredentials);
    server = createServer(ctx.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await ctx?.close();
  });

  /** Every route that takes a body, as [method, concrete path]. */
  const bodyRoutes = () =>
    ctx.app.knownPaths.flatMap((known) => known.methods.filter((m) => BODY_METHODS.includes(m)).map((method) => [method, known.path] as const));

  it('answers 415 to a content coding on every route that takes a body, whatever the body, never a 5xx', async () => {
    expect(bodyRoutes().length).toBeGreaterThanOrEqual(9);
    const json = '{"name":"x","scopes":[],"grace_seconds":0}';
    const form = 'grant_type=client_credentials&token=x';
    for (const [method, path] of bodyRoutes()) {
      const oauthForm = path === '/oauth2/token' || path === '/oauth2/introspect';
      const type = oauthForm ? 'application/x-www-form-urlencoded' : 'application/json';
      const plain = oauthForm ? form : json;
      for (const [encoding, body] of [
        ['gzip', plain],
        ['deflate', plain],
        ['br', plain],
        ['GZIP', gzipSync(plain)],
        ['x-unknown', plain],
      ] as const) {
        const res = await request(ctx.app)
          [method.toLowerCase() as 'post'](concrete(path))
          .set({ Authorization: `Bearer ${token}`, 'Content-Type': type, 'Content-Encoding': encoding })
          .send(body);
        const where = `${method} ${path} with Content-Encoding: ${encoding}`;
        expect(res.status, where).toBe(415);
        const description = 'the body must not be compressed: no Content-Encoding is accepted';
        if (OAUTH_PATHS.includes(path)) expect(res.body, where).toEqual({ error: 'invalid_request', error_description: description });
        // The console's pages answer in a page, in the same words.
        else if (path.startsWith('/console/')) expect(res.text, where).toContain('The body must not be compressed: no Content-Encoding is accepted');
        else expect(res.body, where).toMatchObject({ status: 415, code: 'unsupported_media_type', detail: description });
      }
    }
  });

  it('accepts Content-Encoding: identity, and ignores a coding on a request without a body', async () => {
    const res = await ctx.exchange(ctx.rootCredentials).set('Content-Encoding', 'identity');
    expect(res.status).toBe(200);
    await request(ctx.app).get('/v1/apps').set({ Authorization: `Bearer ${token}`, 'Content-Encoding': 'gzip' }).expect(200);
    await request(ctx.app).get('/healthz').set('Content-Encoding', 'br').expect(200);
  });

  /**
   * Declares `length` bytes but sends only the headers and a few bytes: an answer means the
   * server decided without reading the body. Resolves with the raw response once the server
   * has closed the connection.
   */
  function declareOversize(method: string, path: string, type: string, length: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      const timer = setTimeout(() => reject(new Error(`no answer and no close for ${method} ${path}: ${data}`)), 5000);
      socket.on('data', (chunk) => (data += String(chunk)));
      socket.on('error', () => {});
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(data);
      });
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n{"a":`,
      );
    });
  }

  it('answers 413 to a declared length over 64 KiB before reading the body, and closes the connection', async () => {
    for (const [method, path] of bodyRoutes()) {
      const type = path === '/oauth2/token' || path === '/oauth2/introspect' ? 'application/x-www-form-urlencoded' : 'application/json';
      const raw = await declareOversize(method, concrete(path), type, 10 * 1024 * 1024);
      const where = `${method} ${path}`;
      expect(raw, where).toMatch(/^HTTP\/1\.1 413 /);
      expect(raw, where).toMatch(/\r\nConnection: close\r\n/i);
      const text = raw.slice(raw.indexOf('\r\n\r\n') + 4);
      if (path.startsWith('/console/')) {
        expect(text, where).toContain('The request body exceeds 64 KiB');
        continue;
      }
      const body = JSON.parse(text) as Record<string, unknown>;
      if (OAUTH_PATHS.includes(path)) expect(body, where).toEqual({ error: 'invalid_request', error_description: 'the request body exceeds 64 KiB' });
      else expect(body, where).toMatchObject({ status: 413, code: 'payload_too_large', detail: 'the request body exceeds 64 KiB' });
    }
  });

  it('answers 413 to a declared length over 64 KiB without a token too: the length is checked first', async () => {
    const res = await request(ctx.app).post('/v1/orgs').set({ 'Content-Type': 'application/json' }).send({ name: 'n'.repeat(70_000) });
    expect(res.status).toBe(413);
  });

  it('keeps a body of exactly 64 KiB readable', async () => {
    const padding = 64 * 1024 - '{"name":"","scopes":[]}'.length;
    const res = await request(ctx.app)
      .post('/v1/apps')
      .set({ Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' })
      .send(`{"name":"","scopes":[]}${' '.repeat(padding)}`);
    expect(res.status).toBe(400);
    expect(res.body.detail).toContain('name');
  });
});
