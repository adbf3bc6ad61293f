import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommonAuthTests } from '../helpers/common-auth.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('GET /v1/audit, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    describe('GET /v1/audit', () => runCommonAuthTests(() => ctx, { method: 'get', path: () => '/v1/audit', scope: 'admin.audit:view' }));

    it('never shows another org’s events, even filtered by their target id', async () => {
      const other = await ctx.createOrg('neighbour');
      const token = await ctx.tokenOf({ orgId: other.org.id, keyId: other.key.id, secret: other.secret });
      const rootKey = ctx.root.key.id;
      // The root org has events about its admin key; the neighbour asks for them by id.
      const res = await request(ctx.app).get(`/v1/audit?target_id=${rootKey}`).set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.body).toEqual({ data: [], next_cursor: null });
      const all = await request(ctx.app).get('/v1/audit?limit=200').set('Authorization', `Bearer ${token}`).expect(200);
      expect(all.body.data.length).toBeGreaterThan(0);
      expect(all.body.data.every((e: { org_id: string }) => e.org_id === other.org.id)).toBe(true);
    });

    it('lets admin.audit:view alone read the log but not the apps', async () => {
      const { token } = await ctx.tokenFor(['admin.audit:view']);
      await request(ctx.app).get('/v1/audit').set('Authorization', `Bearer ${token}`).expect(200);
      const res = await request(ctx.app).get('/v1/apps').set('Authorization', `Bearer ${token}`).expect(403);
      expect(res.body.required_scope).toBe('admin.apps:view');
    });
  });
});
