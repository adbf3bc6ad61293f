import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('health and metrics on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close().catch(() => undefined));

    it('reports liveness', async () => {
      const res = await request(ctx.app).get('/healthz').expect(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('reports readiness with its checks', async () => {
      const res = await request(ctx.app).get('/readyz').expect(200);
      expect(res.body).toEqual({ status: 'ready', checks: { database: 'ok', signing_key: 'ok' } });
    });

    it('counts exchanges by outcome in Prometheus text format', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await ctx.exchange(client).expect(200);
      await ctx.exchange({ ...client, secret: (await ctx.createClient(['tools:deploy'])).secret }).expect(401);
      const res = await request(ctx.app).get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/scope_auth_token_exchanges_total\{outcome="issued"\} 1/);
      expect(res.text).toMatch(/scope_auth_token_exchanges_total\{outcome="invalid_client"\} 1/);
      expect(res.text).toMatch(/scope_auth_token_exchange_duration_seconds_count\{outcome="issued"\} 1/);
      expect(res.text).toMatch(/scope_auth_argon2_verify_duration_seconds_count 2/);
    });

    it('reports not ready when the database is unreachable', async () => {
      await ctx.database.handle.close();
      const res = await request(ctx.app).get('/readyz').expect(503);
      expect(res.body).toEqual({ status: 'not_ready', checks: { database: 'unreachable', signing_key: 'ok' } });
    });
  });
});
