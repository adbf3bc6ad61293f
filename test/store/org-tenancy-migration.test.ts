// Migration 0004 (org allowances and disabling) on a database that already holds orgs, apps
// and keys: nothing is lost, every key still exchanges for the scopes it did, every admin
// token still works, and every org is enabled with the allowance it had (every scope).
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../db/migrations/index.js';
import { createApp, type App, type AppDeps } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createArgon2Hasher } from '../../src/domain/hashing.js';
import { newId } from '../../src/domain/credentials.js';
import { prepareKey } from '../../src/domain/keys.js';
import { createServices } from '../../src/services.js';
import { migrateToLatest, type DatabaseHandle } from '../../src/store/database.js';
import { createTestClock } from '../helpers/clock.js';
import { TEST_ENV } from '../helpers/context.js';
import { DIALECTS, dialectTitle, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { testLogger } from '../helpers/test-logger.js';

describe.each(DIALECTS)('migrating a database in use to org tenancy on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let database: TestDatabase;
    let handle: DatabaseHandle;
    let deps: AppDeps;
    let app: App;
    const clock = createTestClock();
    const config = loadConfig(TEST_ENV);
    const seeded: { orgId: string; keyId: string; secret: string; scopes: string[]; root: boolean }[] = [];

    beforeAll(async () => {
      // The schema as the previous version left it.
      database = await openTestDatabase(dialectCase.dialect, { before: '0004-org-tenancy' });
      handle = database.handle;

      // Rows as the previous version wrote them: no allowance, no disabled state.
      const old = handle.db as unknown as Kysely<Record<string, Record<string, unknown>>>;
      const hasher = createArgon2Hasher(config.argon2);
      const now = clock.now();
      for (const [i, { root, scopes }] of [
        { root: true, scopes: ['admin.apps:full', 'admin.audit:view', 'admin.orgs:full'] },
        { root: false, scopes: ['admin.apps:full'] },
        { root: false, scopes: ['runtime:run', 'agents:edit'] },
      ].entries()) {
        const orgId = i < 2 ? newId('org', now + i) : seeded[1]!.orgId;
        if (i < 2) await old.insertInto('orgs').values({ id: orgId, name: `org ${i}`, is_root: root ? 1 : 0, created_at: now, created_by: 'system' }).execute();
        const appId = newId('app', now + i);
        await old
          .insertInto('apps')
          .values({ id: appId, org_id: orgId, name: `app ${i}`, description: '', scopes: JSON.stringify(scopes), audience: null, token_ttl_seconds: null, created_at: now, created_by: 'system', updated_at: now, deleted_at: null })
          .execute();
        const { row, secret } = await prepareKey({ hasher, secretDigest: () => null }, now + i, { orgId, appId, name: `key ${i}`, expiresAt: null, actor: 'system' });
        // Only the columns of that version: later migrations add the others.
        const { scopes: _s, allowed_ips: _a, secret_digest: _d, expiring_notified_at: _e, expired_notified_at: _x, unused_notified_at: _u, ...previousRow } = row;
        await old.insertInto('api_keys').values(previousRow).execute();
        seeded.push({ orgId, keyId: row.id, secret, scopes, root });
      }

      await migrateToLatest(handle.db);
      deps = await createServices(config, { db: handle.db, kek: randomBytes(32), logger: testLogger(), clock });
      app = createApp(deps);
    });
    afterAll(async () => {
      deps?.keyring.stop();
      deps?.throttle.stop();
      await deps?.lastUsed.stop();
      await database?.close();
    });

    const exchange = (s: (typeof seeded)[number]) => request(app).post('/v1/token').send({ org_id: s.orgId, key_id: s.keyId, secret: s.secret });

    it('applies 0004 after the migrations already applied', async () => {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(handle.db);
      expect(rows.map((r) => r.name)).toEqual(Object.keys(migrations).sort());
    });

    it('keeps every org, enabled, allowed every scope as before', async () => {
      const orgs = await handle.db.selectFrom('orgs').selectAll().orderBy('id').execute();
      expect(orgs).toHaveLength(2);
      expect(orgs.every((o) => o.allowed_scopes === null && o.disabled_at === null)).toBe(true);
      expect(await handle.db.selectFrom('apps').select('id').execute()).toHaveLength(3);
      expect(await handle.db.selectFrom('api_keys').select('id').execute()).toHaveLength(3);
    });

    it('lets every key exchange for the scopes it did before', async () => {
      for (const s of seeded) {
        const res = await exchange(s).expect(200);
        expect(res.body.scope).toBe(deps.catalog.expand(s.scopes).join(' '));
      }
    });

    it('lets the admin tokens work, and the root admin see and change the migrated orgs', async () => {
      const rootToken = (await exchange(seeded[0]!).expect(200)).body.access_token as string;
      const tenantToken = (await exchange(seeded[1]!).expect(200)).body.access_token as string;
      await request(app).get('/v1/apps').set('Authorization', `Bearer ${tenantToken}`).expect(200);
      const tenant = await request(app).get(`/v1/orgs/${seeded[1]!.orgId}`).set('Authorization', `Bearer ${rootToken}`).expect(200);
      expect(tenant.body).toMatchObject({ name: 'org 1', allowed_scopes: null, disabled: false, disabled_at: null });
      await request(app).patch(`/v1/orgs/${seeded[1]!.orgId}`).set('Authorization', `Bearer ${rootToken}`).send({ allowed_scopes: ['agents:view'] }).expect(200);
      expect((await exchange(seeded[2]!).expect(200)).body.scope).toBe('agents:view');
    });
  });
});
