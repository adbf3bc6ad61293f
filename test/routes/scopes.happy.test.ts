import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AUDIENCES } from '../helpers/catalog.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('GET /v1/scopes, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    describe('happy paths', () => {
      it('lists the catalogue with the built-ins: components with their level scopes, permissions with implications', async () => {
        const { token } = await ctx.tokenFor(['admin.apps:view']);
        const res = await request(ctx.app).get('/v1/scopes').set('Authorization', `Bearer ${token}`).expect(200);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.body.components).toEqual([
          { name: 'admin.apps', description: 'Apps and API keys of the organization', levels: ['view', 'edit', 'full'], scopes: ['admin.apps:view', 'admin.apps:edit', 'admin.apps:full'], builtin: true },
          { name: 'admin.webhooks', description: expect.stringContaining('Webhooks of the organization'), levels: ['view', 'full'], scopes: ['admin.webhooks:view', 'admin.webhooks:full'], builtin: true },
          { name: 'agents', description: 'Agents of the app', levels: ['view', 'edit', 'full'], scopes: ['agents:view', 'agents:edit', 'agents:full'], builtin: false },
          { name: 'connections', description: 'Connections to external systems', levels: ['view', 'manage'], scopes: ['connections:view', 'connections:manage'], builtin: false },
        ]);
        expect(res.body.permissions).toContainEqual({ name: 'runtime:run', description: 'Execute a run', implies: ['sessions:create'], builtin: false });
        expect(res.body.permissions).toContainEqual({ name: 'admin.orgs:full', description: expect.any(String), implies: [], builtin: true });
        expect(res.body.permissions.filter((p: { builtin: boolean }) => p.builtin).map((p: { name: string }) => p.name)).toEqual([
          'admin.audit:view',
          'admin.orgs:full',
          'admin.users:full',
          'tokens:introspect',
        ]);
        expect(res.body.scopes).toEqual([...res.body.scopes].sort());
        expect(res.body.scopes).toContain('documents:upload');
        expect(res.body.scopes).toContain('admin.apps:full');
        // The default catalogue lists no audience: apps may use the default one only.
        expect(res.body.audiences).toEqual([]);
        expect(res.body.default_audience).toBe('http://scope-auth.test');
      });

      it('lists the audiences of the catalogue, with their descriptions, and the default audience', async () => {
        const listing = await createTestContext({ dialect: dialectCase.dialect, catalog: { audiences: [...TEST_AUDIENCES] } });
        try {
          const { token } = await listing.tokenFor(['admin.apps:view']);
          const res = await request(listing.app).get('/v1/scopes').set('Authorization', `Bearer ${token}`).expect(200);
          expect(res.body.audiences).toEqual([
            { audience: 'https://api.example.com', description: 'The main API' },
            { audience: 'https://billing.example.com', description: 'Billing' },
          ]);
          expect(res.body.default_audience).toBe('http://scope-auth.test');
        } finally {
          await listing.close();
        }
      });

      it('opens to any admin scope', async () => {
        for (const scope of ['admin.apps:view', 'admin.audit:view', 'admin.orgs:full']) {
          const { token } = await ctx.tokenFor([scope]);
          await request(ctx.app).get('/v1/scopes').set('Authorization', `Bearer ${token}`).expect(200);
        }
      });
    });

  });
});
