import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { createLogger } from '../../src/logger.js';
import { createTestContext, type TestContext, type TestCredentials } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('POST /oauth2/token, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({
        dialect: dialectCase.dialect,
        env: { SCOPE_AUTH_TRUST_PROXY: 'true', SCOPE_AUTH_THROTTLE_KEY_FAILURES: '3', SCOPE_AUTH_THROTTLE_IP_FAILURES: '50' },
      });
    });
    afterAll(async () => ctx?.close());

    const oauthBasic = (ip: string, c: TestCredentials) =>
      request(ctx.app).post('/oauth2/token').set('X-Forwarded-For', ip).type('form').auth(c.keyId, c.secret).send('grant_type=client_credentials');
    const oauthPost = (ip: string, c: TestCredentials) =>
      request(ctx.app)
        .post('/oauth2/token')
        .set('X-Forwarded-For', ip)
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: c.keyId, client_secret: c.secret });
    const v1 = (ip: string, c: TestCredentials) =>
      request(ctx.app).post('/v1/token').set('X-Forwarded-For', ip).send({ org_id: c.orgId, key_id: c.keyId, secret: c.secret });

    async function wrongSecretFor(client: TestCredentials): Promise<TestCredentials> {
      return { ...client, secret: (await ctx.createClient(['tools:deploy'])).secret };
    }

    it('shares one throttle with /v1/token: failures on either endpoint count for both', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const wrong = await wrongSecretFor(client);
      await oauthBasic('10.5.0.1', wrong).expect(401);
      await v1('10.5.0.1', wrong).expect(401);
      await oauthPost('10.5.0.1', wrong).expect(401);
      const res = await oauthBasic('10.5.0.1', client).expect(429);
      expect(res.body).toEqual({ error: 'slow_down', error_description: expect.any(String) });
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(res.headers['cache-control']).toBe('no-store');
      await v1('10.5.0.1', client).expect(429);
      // The owner calling from another address is not locked out.
      await oauthPost('10.5.0.2', client).expect(200);
    });

    it('answers every credential failure with the same body as /v1/token', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const wrong = await wrongSecretFor(client);
      const ghost = { ...client, keyId: 'key_01JA0000000000000000000009' };
      const malformed = { ...client, secret: 'secret_short' };
      const responses = [
        await v1('10.6.0.1', wrong),
        await oauthBasic('10.6.0.2', wrong),
        await oauthPost('10.6.0.3', wrong),
        await oauthBasic('10.6.0.4', ghost),
        await oauthPost('10.6.0.5', malformed),
        await request(ctx.app).post('/oauth2/token').set('X-Forwarded-For', '10.6.0.6').type('form').send('grant_type=client_credentials'),
      ];
      expect(responses.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401]);
      expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    });

    it('does no exchange for a grant type it does not support, so such requests cannot probe secrets', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const wrong = await wrongSecretFor(client);
      for (let i = 0; i < 5; i++) {
        await request(ctx.app)
          .post('/oauth2/token')
          .set('X-Forwarded-For', '10.7.0.1')
          .type('form')
          .auth(wrong.keyId, wrong.secret)
          .send('grant_type=password')
          .expect(400);
      }
      const events = await ctx.db.selectFrom('audit_events').select('id').where('target_id', '=', client.keyId).execute();
      expect(events).toEqual([]);
      await oauthBasic('10.7.0.1', client).expect(200);
    });

    it('never writes a secret or token to the logs, even when the secret is put in the URL', async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const app = createApp({ ...ctx.deps, logger: createLogger('trace', sink) });
      const client = await ctx.createClient(['tools:deploy']);
      const wrong = await wrongSecretFor(client);
      const viaBasic = (c: TestCredentials) =>
        request(app).post('/oauth2/token').set('X-Forwarded-For', '10.8.0.1').type('form').auth(c.keyId, c.secret).send('grant_type=client_credentials');
      const ok = await viaBasic(client).expect(200);
      await viaBasic(wrong).expect(401);
      await request(app)
        .post(`/oauth2/token?client_secret=${client.secret}`)
        .set('X-Forwarded-For', '10.8.0.1')
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: client.keyId })
        .expect(400);
      const logs = lines.join('');
      expect(logs).toContain('"outcome":"invalid_client","reason":"wrong_secret"');
      expect(logs).toContain('/oauth2/token');
      const basicCredentials = Buffer.from(`${client.keyId}:${client.secret}`).toString('base64');
      for (const forbidden of [client.secret, wrong.secret, ok.body.access_token, basicCredentials]) expect(logs).not.toContain(forbidden);
    });
  });
});
