import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('GET /v1/audit, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let token: string;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      token = (await ctx.tokenFor(['admin.audit:view'])).token;
    });
    afterAll(async () => ctx?.close());
    const list = (query: string) => request(ctx.app).get(`/v1/audit?${query}`).set('Authorization', `Bearer ${token}`);

    it.each([
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=x', 'limit'],
      ['cursor=%%%', 'cursor'],
      [`cursor=${Buffer.from('c1:evt_bad').toString('base64url')}`, 'cursor'],
      ['action=', 'action'],
      [`action=${'a'.repeat(101)}`, 'action'],
      ['target_id=', 'target_id'],
      ['actor=cli', 'actor'],
      ['action=a&action=b', 'action'],
    ])('answers 400 problem naming the parameter for ?%s', async (query, name) => {
      const res = await list(query).expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'invalid_request', status: 400 });
      expect(res.body.detail).toContain(name);
    });

    it('answers an empty page for a filter that matches nothing', async () => {
      const res = await list('action=no.such.action').expect(200);
      expect(res.body).toEqual({ data: [], next_cursor: null });
    });

    it('accepts a cursor from another list only as a position, never as a way into another org', async () => {
      // A cursor is an id bound; it cannot widen the org filter.
      const other = await ctx.createOrg('elsewhere');
      const res = await list(`cursor=${Buffer.from(`c1:evt_7ZZZZZZZZZZZZZZZZZZZZZZZZZ`).toString('base64url')}&limit=200`).expect(200);
      expect(res.body.data.every((e: { org_id: string }) => e.org_id === ctx.root.org.id)).toBe(true);
      expect(res.body.data.map((e: { target_id: string }) => e.target_id)).not.toContain(other.org.id);
    });
  });
});
