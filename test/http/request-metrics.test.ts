// http_request_duration_seconds, as Prometheus reads it from /metrics: one series per method,
// route template and status class, whoever answered (a raw route, a router, authentication,
// the 405 guard, the 404).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JWKS_PATH } from '../../src/routes/jwks.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

/** The `_count` of the series with these labels, or null when /metrics has none. */
function countOf(text: string, labels: { method: string; route: string; status_class: string }): number | null {
  const wanted = `http_request_duration_seconds_count{method="${labels.method}",route="${labels.route}",status_class="${labels.status_class}"} `;
  const line = text.split('\n').find((l) => l.startsWith(wanted));
  return line === undefined ? null : Number(line.slice(wanted.length));
}

describe.each(DIALECTS)('request duration metrics on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close().catch(() => undefined));

    const metrics = async () => (await request(ctx.app).get('/metrics').expect(200)).text;

    it('counts the token endpoint and the JWKS under their paths, by status class', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await ctx.exchange(client).expect(200);
      await ctx.exchange({ ...client, secret: 'secret_wrong' }).expect(401);
      await request(ctx.app).get(JWKS_PATH).expect(200);
      const text = await metrics();
      expect(countOf(text, { method: 'POST', route: '/v1/token', status_class: '2xx' })).toBe(1);
      expect(countOf(text, { method: 'POST', route: '/v1/token', status_class: '4xx' })).toBe(1);
      expect(countOf(text, { method: 'GET', route: JWKS_PATH, status_class: '2xx' })).toBe(1);
    });

    it('labels an admin route by its template, never by the ids in its path, also when authentication refuses it', async () => {
      const { appId, token } = await ctx.tokenFor(['admin.apps:view']);
      await request(ctx.app).get(`/v1/apps/${appId}`).set('authorization', `Bearer ${token}`).expect(200);
      await request(ctx.app).get('/v1/apps/app_00000000000000000000000000').expect(401);
      await request(ctx.app).delete(`/v1/apps/${appId}`).set('authorization', `Bearer ${token}`).expect(403);
      const text = await metrics();
      expect(countOf(text, { method: 'GET', route: '/v1/apps/:app_id', status_class: '2xx' })).toBe(1);
      expect(countOf(text, { method: 'GET', route: '/v1/apps/:app_id', status_class: '4xx' })).toBe(1);
      expect(countOf(text, { method: 'DELETE', route: '/v1/apps/:app_id', status_class: '4xx' })).toBe(1);
      expect(text).not.toContain(appId);
      expect(text).not.toContain('app_00000000000000000000000000');
    });

    it('counts every unknown path as one route, and every unusual method as one', async () => {
      await request(ctx.app).get('/no/such/path/1').expect(404);
      await request(ctx.app).get('/no/such/path/2').expect(404);
      await request(ctx.app).get('/.env').expect(404);
      await request(ctx.app).options('/healthz').expect(204);
      await request(ctx.app).put('/healthz').expect(405);
      const text = await metrics();
      expect(countOf(text, { method: 'GET', route: 'unmatched', status_class: '4xx' })).toBe(3);
      expect(countOf(text, { method: 'OPTIONS', route: '/healthz', status_class: '2xx' })).toBe(1);
      expect(countOf(text, { method: 'PUT', route: '/healthz', status_class: '4xx' })).toBe(1);
      expect(text).not.toContain('/no/such/path');
      expect(text).not.toContain('/.env');
    });

    it('writes each series as a Prometheus histogram: cumulative buckets up to +Inf, a sum and a count', async () => {
      await request(ctx.app).get('/healthz').expect(200);
      const text = await metrics();
      expect(text).toContain('# TYPE http_request_duration_seconds histogram');
      const prefix = 'http_request_duration_seconds_bucket{method="GET",route="/healthz",status_class="2xx",le="';
      const buckets = text.split('\n').filter((line) => line.startsWith(prefix));
      const counts = buckets.map((line) => Number(line.split(' ').at(-1)));
      expect(buckets.at(-1)).toMatch(/le="\+Inf"\} \d+$/);
      expect(counts).toEqual([...counts].sort((a, b) => a - b));
      expect(counts.at(-1)).toBe(countOf(text, { method: 'GET', route: '/healthz', status_class: '2xx' }));
      expect(text).toMatch(/^http_request_duration_seconds_sum\{method="GET",route="\/healthz",status_class="2xx"\} [0-9.e-]+$/m);
    });

    it('says which version runs on which Node.js', async () => {
      expect(await metrics()).toContain(`scope_auth_build_info{version="0.1.0",node="${process.version}"} 1`);
    });
  });
});
