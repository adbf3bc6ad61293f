// Generated hostile requests against every route of a real server on loopback: bad and odd
// JSON (prototype keys, duplicate keys, huge numbers, NUL and unicode), wrong types, wrong
// content types and codings, odd methods, junk and valid tokens, oversize bodies and headers.
// Whatever arrives, the answer is never a 5xx, and the server is healthy afterwards. Bounded
// in runs (about 30 s in CI at most), traffic only to 127.0.0.1.
import { request as httpRequest, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';

const RUNS = Number(process.env.SCOPE_AUTH_FUZZ_RUNS ?? 2000);

/** Every route the server answers, with its parameters as placeholders. */
const ROUTES = [
  '/v1/token',
  '/oauth2/token',
  '/oauth2/introspect',
  '/.well-known/jwks.json',
  '/.well-known/oauth-authorization-server',
  '/healthz',
  '/readyz',
  '/metrics',
  '/v1/scopes',
  '/v1/apps',
  '/v1/apps/:app',
  '/v1/apps/:app/keys',
  '/v1/keys',
  '/v1/keys/:key',
  '/v1/keys/:key/revoke',
  '/v1/keys/:key/roll',
  '/v1/audit',
  '/v1/orgs',
  '/v1/orgs/:org',
  '/nowhere',
] as const;

interface Shot {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

interface Answer {
  status: number;
  text: string;
}

function send(port: number, shot: Shot): Promise<Answer> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, method: shot.method, path: shot.path, headers: { ...shot.headers, 'content-length': String(shot.body.length) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    // The server may close a connection it will not read (oversize, bad coding): not a 5xx.
    req.on('error', (error) => resolve({ status: 0, text: String(error) }));
    req.end(shot.body);
  });
}

describe('hostile requests to every route', () => {
  let ctx: TestContext;
  let server: Server;
  let port: number;
  let ids: { app: string; key: string; org: string };
  let tokens: string[];

  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
    const client = await ctx.createClient(['tools:deploy']);
    ids = { app: client.appId, key: client.keyId, org: ctx.root.org.id };
    const admin = await ctx.tokenOf(ctx.rootCredentials);
    tokens = [admin, (await ctx.tokenFor(['tokens:introspect'])).token];
    server = createServer(ctx.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await ctx?.close();
  });

  const hostileString = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constantFrom('\u0000', '\u0000admin', '💥'.repeat(50), 'x'.repeat(5000), '%00', '../../etc/passwd', '__proto__', 'constructor', 'secret_', 'key_', 'org_'),
  );
  const hostileNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 1e300));
  const hostileValue = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, hostileString, hostileNumber, fc.boolean(), fc.constant(null), tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 5 }),
    object: fc.dictionary(fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'prototype', 'name', 'scopes', 'org_id', 'key_id', 'secret', 'scope', 'audience', 'grace_seconds', 'expires_at', 'allowed_scopes', 'disabled')), tie('value'), { maxKeys: 6 }),
  })).value;

  const body = fc.oneof(
    hostileValue.map((value) => JSON.stringify(value) ?? 'null'),
    fc.constantFrom(
      '{"name":"a","name":"b","scopes":[]}',
      '{"__proto__":{"admin":true},"name":"x","scopes":[]}',
      '{"org_id":1e400,"key_id":[],"secret":{}}',
      '{"grace_seconds":1e308}',
      '{',
      '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
      'grant_type=client_credentials&client_id=key_x&client_secret=y&grant_type=other',
      'token=%ZZ&token=',
      '\u0000\u0001\u0002',
      '',
    ),
    fc.constant('x'.repeat(70 * 1024)),
  );

  const shot: fc.Arbitrary<Shot> = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS', 'TRACE', 'FOO'),
    route: fc.constantFrom(...ROUTES),
    param: fc.oneof(fc.constant('real'), hostileString.map((s) => encodeURIComponent(s).slice(0, 200))),
    query: fc.oneof(fc.constant(''), fc.constantFrom('?limit=0', '?limit=99999999999999999999', '?cursor=%00', '?status=weird&status=active', '?a[b]=c', '?limit=1&limit=2', '?unused_days=-1')),
    contentType: fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', 'text/plain', 'application/json, text/plain', 'multipart/form-data; boundary=x', '*/*', 'application/problem+json'),
    contentEncoding: fc.constantFrom(undefined, undefined, undefined, 'gzip', 'deflate', 'br', 'identity', 'zstd, gzip'),
    authorization: fc.oneof(fc.constant(undefined), fc.constantFrom('Bearer', 'Bearer ', 'Basic Og==', 'Basic !!!', 'Bearer eyJ.eyJ.sig', `Bearer ${'a'.repeat(9000)}`), fc.constant('token')),
    body,
  }).map((r) => {
    const path = r.route.replace(/:(app|key|org)/, (_, kind: 'app' | 'key' | 'org') => (r.param === 'real' ? ids[kind] : r.param)) + r.query;
    const headers: Record<string, string> = {};
    if (r.contentType !== undefined) headers['content-type'] = r.contentType;
    if (r.contentEncoding !== undefined) headers['content-encoding'] = r.contentEncoding;
    if (r.authorization === 'token') headers.authorization = `Bearer ${tokens[0]!}`;
    else if (r.authorization !== undefined) headers.authorization = r.authorization;
    return { method: r.method, path, headers, body: Buffer.from(r.body) };
  });

  it(`never answers 5xx to ${RUNS} generated hostile requests, and stays healthy`, async () => {
    await fc.assert(
      fc.asyncProperty(shot, async (s) => {
        const answer = await send(port, s);
        if (answer.status >= 500) {
          const headers = { ...s.headers, ...(s.headers.authorization ? { authorization: `${s.headers.authorization.slice(0, 12)}…` } : {}) };
          throw new Error(`${s.method} ${s.path.slice(0, 200)} ${JSON.stringify(headers)} with a ${s.body.length}-byte body ${JSON.stringify(s.body.subarray(0, 80).toString())} → ${answer.status} ${answer.text.slice(0, 200)}`);
        }
      }),
      {
        numRuns: RUNS,
        interruptAfterTimeLimit: 45_000,
        // The default report prints the whole counterexample (a 70 KiB body as bytes); the
        // property's own error already says what was sent, with the body described by size.
        reporter: (details) => {
          if (details.failed) throw new Error(`after ${details.numRuns} runs (seed ${details.seed}): ${(details.errorInstance as Error | undefined)?.message ?? 'failed'}`);
        },
      },
    );
    expect((await send(port, { method: 'GET', path: '/healthz', headers: {}, body: Buffer.alloc(0) })).status).toBe(200);
    expect((await send(port, { method: 'GET', path: '/readyz', headers: {}, body: Buffer.alloc(0) })).status).toBe(200);
    await ctx.exchange(ctx.rootCredentials).expect(200);
  }, 90_000);
});
