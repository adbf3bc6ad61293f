import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommonAuthTests } from '../helpers/common-auth.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('POST /oauth2/introspect, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    async function tokenFor(scopes: string[], orgId?: string) {
      const client = await ctx.createClient(scopes, orgId === undefined ? {} : { orgId });
      return { client, token: (await ctx.exchange(client).expect(200)).body.access_token as string };
    }
    const introspect = (authorization: string | null, token: string) => {
      const req = request(ctx.app).post('/oauth2/introspect').type('form');
      if (authorization !== null) req.set('Authorization', authorization);
      return req.send({ token });
    };

    describe('the caller must hold a live token of this server with tokens:introspect', () => {
      runCommonAuthTests(() => ctx, { method: 'post', path: () => '/oauth2/introspect', body: { token: 'x' }, scope: 'tokens:introspect', sessions: false });

      it('refuses without revealing anything about the token, and marks even the refusal no-store', async () => {
        const { token } = await tokenFor(['tools:deploy']);
        const { token: caller } = await tokenFor(['admin.apps:full', 'tools:deploy']);
        for (const res of [await introspect(null, token).expect(401), await introspect(`Bearer ${caller}`, token).expect(403)]) {
          expect(res.headers['cache-control']).toBe('no-store');
          expect(res.text).not.toContain('"active"');
          expect(res.text).not.toContain('tools:deploy');
        }
      });
    });

    describe('tenant isolation', () => {
      it('answers active:false for a valid token of another org, which that org’s own introspector sees as active', async () => {
        const acme = await ctx.createOrg('acme');
        const beta = await ctx.createOrg('beta');
        const { token } = await tokenFor(['tools:deploy'], acme.org.id);
        const { token: betaCaller } = await tokenFor(['tokens:introspect'], beta.org.id);
        const { token: acmeCaller } = await tokenFor(['tokens:introspect'], acme.org.id);
        expect((await introspect(`Bearer ${betaCaller}`, token).expect(200)).body).toEqual({ active: false });
        expect((await introspect(`Bearer ${acmeCaller}`, token).expect(200)).body).toMatchObject({ active: true, org_id: acme.org.id });
      });

      it('lets the root org, the operator’s own services, introspect the tokens of every org', async () => {
        const delta = await ctx.createOrg('delta');
        const { token } = await tokenFor(['tools:deploy'], delta.org.id);
        const { token: rootCaller } = await tokenFor(['tokens:introspect']);
        expect((await introspect(`Bearer ${rootCaller}`, token).expect(200)).body).toMatchObject({
          active: true,
          org_id: delta.org.id,
          scope: 'tools:deploy',
        });
      });

      it('does not let an org introspect the root org’s tokens either', async () => {
        const beta = await ctx.createOrg('beta');
        const { token } = await tokenFor(['tools:deploy']);
        const { token: betaCaller } = await tokenFor(['tokens:introspect'], beta.org.id);
        expect((await introspect(`Bearer ${betaCaller}`, token).expect(200)).body).toEqual({ active: false });
      });
    });

    it('answers every inactive token with byte-identical bodies and headers', async () => {
      const gamma = await ctx.createOrg('gamma');
      const { token: caller } = await tokenFor(['tokens:introspect'], gamma.org.id);
      const revoked = await tokenFor(['tools:deploy'], gamma.org.id);
      await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now() }).where('id', '=', revoked.client.keyId).execute();
      const foreignOrg = await tokenFor(['tools:deploy']);
      const responses = [
        await introspect(`Bearer ${caller}`, 'garbage'),
        await introspect(`Bearer ${caller}`, revoked.token),
        await introspect(`Bearer ${caller}`, foreignOrg.token),
      ];
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(new Set(responses.map((r) => r.text))).toEqual(new Set(['{"active":false}']));
      const headerSets = responses.map((r) => JSON.stringify([r.headers['cache-control'], r.headers['content-type'], r.headers['content-length']]));
      expect(new Set(headerSets).size).toBe(1);
    });
  });
});
