// POST /v1/leaks refuses what is not a report with a clear 4xx naming what is wrong, and a
// refused request revokes nothing.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { generateSecret } from '../../src/domain/credentials.js';
import type { SecretHasher } from '../../src/domain/hashing.js';
import { expect400 } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { LEAKS, report } from '../helpers/leaks.js';

describe.each(DIALECTS)('POST /v1/leaks, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let secret: string;
    let keyId: string;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE: '1000' } });
      ({ secret, keyId } = await ctx.createClient(['tools:deploy']));
    });
    afterAll(async () => {
      // Not one of the refused requests revoked the key.
      const row = await ctx?.db.selectFrom('api_keys').select('revoked_at').where('id', '=', keyId).executeTakeFirstOrThrow();
      expect(row?.revoked_at).toBeNull();
      await ctx?.close();
    });

    it('refuses a body that is not JSON: 400 problem', async () => {
      const res = await report(ctx.app, `[{"token":"${secret}"`).expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'invalid_request', detail: 'the request body is not valid JSON' });
    });

    it('refuses JSON that is not an array of reports, naming the shape', async () => {
      for (const body of [{ token: secret }, 'null', '"secret"', '42']) {
        const res = await report(ctx.app, typeof body === 'string' ? body : JSON.stringify(body)).expect(400);
        expect(res.body.detail).toContain('expected a JSON array of { token, type?, url?, source? }');
      }
    });

    it('refuses an empty body and an empty array', async () => {
      const empty = await request(ctx.app).post(LEAKS).set('Content-Type', 'application/json').send('').expect(400);
      expect(empty.body.detail).toContain('expected a JSON array');
      const none = await report(ctx.app, []).expect(400);
      expect(none.body.detail).toContain('with 1 to 100 reports');
    });

    it('refuses more than 100 reports in one request', async () => {
      const many = Array.from({ length: 101 }, () => ({ token: generateSecret() }));
      const res = await report(ctx.app, [{ token: secret }, ...many.slice(1)]).expect(400);
      expect(res.body.detail).toBe('body: expected at most 100 reports in one request');
    });

    it('refuses a report without a token, or with a token or url that is not a string, naming the report', async () => {
      expect400(await report(ctx.app, [{ token: secret }, { url: 'https://example.com' }]), '1.token');
      expect400(await report(ctx.app, [{ token: 42 }]), '0.token');
      expect400(await report(ctx.app, [{ token: secret, url: 7 }]), '0.url');
      expect400(await report(ctx.app, ['secret']), '0');
    });

    it('refuses a body over 64 KiB with 413 and another content type with 415', async () => {
      const big = JSON.stringify([{ token: secret, url: `https://example.com/${'x'.repeat(70 * 1024)}` }]);
      const tooBig = await report(ctx.app, big);
      expect(tooBig.status).toBe(413);
      expect(tooBig.body.code).toBe('payload_too_large');
      const text = await request(ctx.app).post(LEAKS).set('Content-Type', 'text/plain').send(JSON.stringify([{ token: secret }])).expect(415);
      expect(text.body.code).toBe('unsupported_media_type');
      const gzip = await request(ctx.app).post(LEAKS).set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('[]').expect(415);
      expect(gzip.body.code).toBe('unsupported_media_type');
    });

    it('answers 503 with Retry-After while argon2 is busy with other verifications, and the report can be sent again', async () => {
      const busy = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_ARGON2_CONCURRENCY: '1', SCOPE_AUTH_ARGON2_QUEUE_LIMIT: '0' } });
      try {
        let open: () => void = () => {};
        let started: () => void = () => {};
        const gate = new Promise<void>((resolve) => (open = resolve));
        const began = new Promise<void>((resolve) => (started = resolve));
        const hasher: SecretHasher = {
          hash: (s) => busy.deps.hasher.hash(s),
          async verify(h, s) {
            started();
            await gate;
            return busy.deps.hasher.verify(h, s);
          },
        };
        const app = createApp({ ...busy.deps, hasher });
        const [first, second] = [await busy.createClient(['tools:deploy']), await busy.createClient(['tools:deploy'])];
        const held = report(app, [{ token: first.secret }]).then((res) => res);
        // The first report's verification holds the only slot until the gate opens.
        await began;
        const refused = await report(app, [{ token: second.secret }]);
        expect(refused.status).toBe(503);
        expect(refused.body.code).toBe('unavailable');
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        open();
        expect((await held).body[0].label).toBe('true_positive');
        expect((await report(app, [{ token: second.secret }]).expect(200)).body[0].label).toBe('true_positive');
      } finally {
        await busy.close();
      }
    });

    it('answers 405 with Allow: POST for another method', async () => {
      const res = await request(ctx.app).get(LEAKS).expect(405);
      expect(res.headers['allow']).toBe('POST');
    });
  });
});
