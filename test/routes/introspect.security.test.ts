import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
      it('answers 401 with a Bearer challenge when no token is presented', async () => {
        const { token } = await tokenFor(['tools:deploy']);
        const res = await introspect(null, token).expect(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="scope-auth"');
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body).toMatchObject({ status: 401, code: 'unauthenticated' });
        expect(res.text).not.toContain('"active"');
      });

      it.each([
        ['a junk token', 'Bearer not.a.token'],
        ['Basic credentials', `Basic ${Buffer.from('key_x:secret_x').toString('base64')}`],
      ])('answers 401 invalid_token for %s', async (_what, header) => {
        const { token } = await tokenFor(['tools:deploy']);
        const res = await introspect(header, token).expect(401);
        expect(res.text).not.toContain('"active"');
        if (header.startsWith('Bearer')) expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="scope-auth", error="invalid_token"/);
      });

      it('answers 401 for an expired caller token', async () => {
        const { token: caller } = await tokenFor(['tokens:introspect']);
        ctx.clock.advance(900_000);
        const { token } = await tokenFor(['tools:deploy']);
        const res = await introspect(`Bearer ${caller}`, token).expect(401);
        expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      });

      it('answers 401 once the caller’s own key is revoked', async () => {
        const { client, token: caller } = await tokenFor(['tokens:introspect']);
        const { token } = await tokenFor(['tools:deploy']);
        await introspect(`Bearer ${caller}`, token).expect(200);
        const admin = await ctx.tokenOf(ctx.rootCredentials);
        await request(ctx.app).post(`/v1/keys/${client.keyId}/revoke`).set('Authorization', `Bearer ${admin}`).send({}).expect(200);
        await introspect(`Bearer ${caller}`, token).expect(401);
      });

      it('answers 403 naming the scope when the caller lacks tokens:introspect', async () => {
        const { token: caller } = await tokenFor(['admin.apps:full', 'tools:deploy']);
        const { token } = await tokenFor(['tools:deploy']);
        const res = await introspect(`Bearer ${caller}`, token).expect(403);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="scope-auth", error="insufficient_scope", scope="tokens:introspect"');
        expect(res.body).toMatchObject({ status: 403, code: 'insufficient_scope', required_scope: 'tokens:introspect' });
        expect(res.text).not.toContain('"active"');
      });
    });

    describe('tenant isolation', () => {
      it('answers active:false for a valid token of another org, which that org’s own introspector sees as active', async () => {
        const acme = await ctx.createOrg('acme');
        const { token } = await tokenFor(['tools:deploy'], acme.org.id);
        const { token: rootCaller } = await tokenFor(['tokens:introspect']);
        const { token: acmeCaller } = await tokenFor(['tokens:introspect'], acme.org.id);
        expect((await introspect(`Bearer ${rootCaller}`, token).expect(200)).body).toEqual({ active: false });
        expect((await introspect(`Bearer ${acmeCaller}`, token).expect(200)).body).toMatchObject({ active: true, org_id: acme.org.id });
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
      const { token: caller } = await tokenFor(['tokens:introspect']);
      const revoked = await tokenFor(['tools:deploy']);
      await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now() }).where('id', '=', revoked.client.keyId).execute();
      const foreignOrg = await tokenFor(['tools:deploy'], gamma.org.id);
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
