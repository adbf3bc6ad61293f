// Migration 0007 on a database that already holds apps able to administer people: each
// such app gains the webhook scope its people now need (every role holds one), so its keys
// go on inviting and changing people as before; no other app changes.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/credentials.js';
import { prepareKey } from '../../src/domain/keys.js';
import { insertApiKey } from '../../src/store/api-keys.js';
import { insertApp } from '../../src/store/apps.js';
import { insertOrg } from '../../src/store/orgs.js';
import { createTestContext, type TestContext, type TestCredentials } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { appRow } from '../helpers/rows.js';

// The grants as the version before webhooks made them.
const OLD_GRANTS = {
  admin: ['admin.apps:full', 'admin.audit:view', 'admin.users:full', 'tokens:introspect'],
  people: ['admin.apps:view', 'admin.audit:view', 'admin.users:full'],
  apps: ['admin.apps:full', 'admin.audit:view'],
  runtime: ['runtime:run'],
} as const;
type Grant = keyof typeof OLD_GRANTS;

describe.each(DIALECTS)('migrating the admin apps of a database in use to webhooks on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    const seeded = new Map<Grant, TestCredentials & { appId: string; updatedAt: number }>();

    beforeAll(async () => {
      ctx = await createTestContext({
        dialect: dialectCase.dialect,
        upgrade: {
          before: '0007-admin-apps-webhooks',
          async seed(db, { hasher, clock }) {
            const now = clock.now() - 60_000;
            const orgId = newId('org', now);
            await insertOrg(db, { id: orgId, name: 'older org', is_root: 0, created_at: now, created_by: 'system', allowed_scopes: null, disabled_at: null, require_mfa: 0, auto_revoke_unused_days: null });
            for (const [i, grant] of (Object.keys(OLD_GRANTS) as Grant[]).entries()) {
              const app = appRow(orgId, now + i, { name: grant, scopes: [...OLD_GRANTS[grant]] });
              await insertApp(db, app);
              const { row, secret } = await prepareKey({ hasher, secretDigest: () => null }, now + i, { orgId, appId: app.id, name: grant, expiresAt: null, actor: 'system' });
              await insertApiKey(db, row);
              seeded.set(grant, { orgId, appId: app.id, keyId: row.id, secret, updatedAt: app.updated_at });
            }
          },
        },
      });
    });
    afterAll(async () => ctx?.close());

    const storedApp = (grant: Grant) => ctx.db.selectFrom('apps').select(['scopes', 'updated_at']).where('id', '=', seeded.get(grant)!.appId).executeTakeFirstOrThrow();
    const invite = async (grant: Grant, role: string) =>
      request(ctx.app)
        .post('/v1/users')
        .set('Authorization', `Bearer ${await ctx.tokenOf(seeded.get(grant)!)}`)
        .send({ email: `${grant}-${role}@example.com`, role });

    it('gives an app that held everything an owner held admin.webhooks:full, and its keys’ tokens carry it', async () => {
      const app = await storedApp('admin');
      expect(JSON.parse(app.scopes)).toEqual([...OLD_GRANTS.admin, 'admin.webhooks:full']);
      expect(app.updated_at).toBeGreaterThan(seeded.get('admin')!.updatedAt);
      const res = await ctx.exchange(seeded.get('admin')!).expect(200);
      expect(res.body.scope.split(' ')).toEqual(expect.arrayContaining(['admin.webhooks:full', 'admin.webhooks:view']));
    });

    it('lets the old admin key invite an owner and register a webhook, as an owner may', async () => {
      expect((await invite('admin', 'owner')).status).toBe(201);
      const token = await ctx.tokenOf(seeded.get('admin')!);
      await request(ctx.app).get('/v1/webhooks').set('Authorization', `Bearer ${token}`).expect(200);
    });

    it('gives an app that administered people without admin.apps:full only admin.webhooks:view: it invites viewers, not owners', async () => {
      expect(JSON.parse((await storedApp('people')).scopes)).toEqual([...OLD_GRANTS.people, 'admin.webhooks:view']);
      expect((await invite('people', 'viewer')).status).toBe(201);
      const owner = await invite('people', 'owner');
      expect(owner.status).toBe(403);
      const token = await ctx.tokenOf(seeded.get('people')!);
      await request(ctx.app).post('/v1/webhooks').set('Authorization', `Bearer ${token}`).send({ url: 'https://hooks.example.com/in', events: ['key.created'] }).expect(403);
    });

    it('leaves every app that does not administer people as it was', async () => {
      for (const grant of ['apps', 'runtime'] as const) {
        const app = await storedApp(grant);
        expect(JSON.parse(app.scopes)).toEqual(OLD_GRANTS[grant]);
        expect(app.updated_at).toBe(seeded.get(grant)!.updatedAt);
      }
    });
  });
});
