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

    describe('an app narrowed after its token was minted', () => {
      const rescope = async (appId: string, scopes: string[]) =>
        request(ctx.app)
          .patch(`/v1/apps/${appId}`)
          .set('Authorization', `Bearer ${await ctx.tokenOf(ctx.rootCredentials)}`)
          .send({ scopes })
          .expect(200);

      it('answers 403 to the same token on its next call once its app is stripped of admin.audit:view', async () => {
        const caller = await ctx.tokenFor(['admin.audit:view', 'admin.apps:view']);
        const audit = () => request(ctx.app).get('/v1/audit').set('Authorization', `Bearer ${caller.token}`);
        await audit().expect(200);

        await rescope(caller.appId, ['admin.apps:view']);
        const res = await audit().expect(403);
        expect(res.body).toMatchObject({ code: 'insufficient_scope', required_scope: 'admin.audit:view' });
        expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
        // What the app still grants, the token still does.
        await request(ctx.app).get('/v1/apps').set('Authorization', `Bearer ${caller.token}`).expect(200);

        // Granted again, the token has it again: it never held less than its own scopes said.
        await rescope(caller.appId, ['admin.apps:view', 'admin.audit:view']);
        await audit().expect(200);
      });

      it('never lets a token use a scope its app was granted after the token was minted', async () => {
        const caller = await ctx.tokenFor(['admin.apps:view']);
        await rescope(caller.appId, ['admin.apps:view', 'admin.audit:view']);
        await request(ctx.app).get('/v1/audit').set('Authorization', `Bearer ${caller.token}`).expect(403);
        await request(ctx.app).get('/v1/audit').set('Authorization', `Bearer ${await ctx.tokenOf(caller)}`).expect(200);
      });

      it('narrows what the token may do to other apps at once, too', async () => {
        // An app narrowed to view-only loses the edit rights its old token carries.
        const caller = await ctx.tokenFor(['admin.apps:edit']);
        const target = await ctx.createApp(caller.orgId, ['tools:deploy']);
        const rename = (name: string) => request(ctx.app).patch(`/v1/apps/${target.id}`).set('Authorization', `Bearer ${caller.token}`).send({ name });
        await rename('first').expect(200);
        await rescope(caller.appId, ['admin.apps:view']);
        expect((await rename('second').expect(403)).body.required_scope).toBe('admin.apps:edit');
        expect((await request(ctx.app).get(`/v1/apps/${target.id}`).set('Authorization', `Bearer ${caller.token}`).expect(200)).body.name).toBe('first');
      });
    });
  });
});
