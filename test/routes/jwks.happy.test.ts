import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('GET /.well-known/jwks.json on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());
    const standbyKid = () => ctx.deps.keyring.list().find((k) => k.state === 'standby')!.kid;

    it('publishes the signing key with cache headers and an ETag', async () => {
      const res = await request(ctx.app).get('/.well-known/jwks.json').expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('public, max-age=300');
      expect(res.headers['etag']).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect(res.body.keys).toEqual([
        { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: ctx.deps.keyring.signingKey().kid, alg: 'ES256', use: 'sig' },
        { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: standbyKid(), alg: 'ES256', use: 'sig' },
      ]);
    });

    it('answers 304 with no body to a matching If-None-Match, weak or in a list', async () => {
      const { headers } = await request(ctx.app).get('/.well-known/jwks.json').expect(200);
      const etag = headers['etag']!;
      for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const res = await request(ctx.app).get('/.well-known/jwks.json').set('If-None-Match', header).expect(304);
        expect(res.text).toBe('');
        expect(res.headers['etag']).toBe(etag);
      }
    });

    it('answers HEAD with the headers of a GET and no body', async () => {
      const get = await request(ctx.app).get('/.well-known/jwks.json').expect(200);
      const head = await request(ctx.app).head('/.well-known/jwks.json').expect(200);
      expect(head.headers['content-length']).toBe(get.headers['content-length']);
      expect(head.headers['etag']).toBe(get.headers['etag']);
      expect(head.text ?? '').toBe('');
    });

    it('writes one request log line for a JWKS answer, as for any other', async () => {
      const lines: Array<Record<string, unknown>> = [];
      const sink = new Writable({
        write(chunk, _encoding, done) {
          lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
          done();
        },
      });
      const app = createApp({ ...ctx.deps, logger: createLogger('info', sink) });
      await request(app).get('/.well-known/jwks.json?v=2').expect(200);
      expect(lines.filter((line) => line['msg'] === 'request completed')).toEqual([
        expect.objectContaining({ req: expect.objectContaining({ method: 'GET', path: '/.well-known/jwks.json' }), res: { status: 200 } }),
      ]);
    });

    it('answers 200 to a stale If-None-Match', async () => {
      const res = await request(ctx.app).get('/.well-known/jwks.json').set('If-None-Match', '"stale"').expect(200);
      expect(res.body.keys).toHaveLength(2);
    });

    it('publishes the key a rotation makes sign before it signs, and the next standby at the rotation, changing the ETag', async () => {
      const before = await request(ctx.app).get('/.well-known/jwks.json');
      const oldKid = ctx.deps.keyring.signingKey().kid;
      const standby = standbyKid();
      expect(before.body.keys.map((k: { kid: string }) => k.kid)).toEqual([oldKid, standby]);
      const rotation = await ctx.deps.keyring.rotate();
      expect(rotation.activated.kid).toBe(standby);
      const after = await request(ctx.app).get('/.well-known/jwks.json').expect(200);
      expect(after.headers['etag']).not.toBe(before.headers['etag']);
      expect(after.body.keys.map((k: { kid: string }) => k.kid)).toEqual([oldKid, standby, rotation.standby.kid]);
      expect(ctx.deps.keyring.signingKey().kid).toBe(oldKid);
      const client = await ctx.createClient(['tools:deploy']);
      ctx.clock.advance(300_000);
      const token = (await ctx.exchange(client).expect(200)).body.access_token as string;
      expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid).toBe(standby);
    });
  });
});
