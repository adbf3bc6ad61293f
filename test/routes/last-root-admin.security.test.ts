// The last way in stays: through the API, nobody can revoke or delete the root org's last
// active key holding admin.orgs:full, nor demote or delete its app (409 last_root_admin),
// not even that key itself, and not two admins at the same moment on two instances.
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App, type AppDeps } from '../../src/app.js';
import { createServices } from '../../src/services.js';
import { createDatabase, type DatabaseHandle } from '../../src/store/database.js';
import { cliActor } from '../../src/domain/actor.js';
import { getKey } from '../../src/domain/keys.js';
import { orgSnapshot } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { testLogger } from '../helpers/test-logger.js';

function expectLastRootAdmin(res: request.Response) {
  expect(res.status).toBe(409);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status: 409, code: 'last_root_admin', type: 'urn:scope-auth:problem:last_root_admin' });
  expect(res.body.detail).toContain('admin.orgs:full');
}

describe.each(DIALECTS)('the root org’s last admin on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let rootToken: string;
    // Each test starts from a fresh first start: one root admin key, of the `admin` app.
    beforeEach(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      rootToken = await ctx.tokenOf(ctx.rootCredentials);
    });
    afterEach(async () => ctx?.close());

    const as = (token: string) => ({
      revoke: (keyId: string, app: App = ctx.app) => request(app).post(`/v1/keys/${keyId}/revoke`).set('Authorization', `Bearer ${token}`).send({}),
      delete: (path: string) => request(ctx.app).delete(path).set('Authorization', `Bearer ${token}`),
      patch: (appId: string, body: object) => request(ctx.app).patch(`/v1/apps/${appId}`).set('Authorization', `Bearer ${token}`).send(body),
      post: (path: string, body: object) => request(ctx.app).post(path).set('Authorization', `Bearer ${token}`).send(body),
    });
    const keyStatus = async (keyId: string) => (await getKey(ctx.deps, cliActor(ctx.root.org.id), { keyId })).status;

    it('refuses the last root admin key revoking or deleting itself, and changes nothing', async () => {
      const before = await orgSnapshot(ctx, ctx.root.org.id);
      expectLastRootAdmin(await as(rootToken).revoke(ctx.root.key.id));
      expectLastRootAdmin(await as(rootToken).delete(`/v1/keys/${ctx.root.key.id}`));
      expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
      await request(ctx.app).get('/v1/orgs').set('Authorization', `Bearer ${rootToken}`).expect(200);
    });

    it('refuses to demote or delete the app of the last root admin key, but allows any other change to it', async () => {
      const admin = ctx.root.adminApp.id;
      const before = await orgSnapshot(ctx, ctx.root.org.id);
      expectLastRootAdmin(await as(rootToken).patch(admin, { scopes: ['admin.apps:full', 'admin.audit:view', 'tokens:introspect'] }));
      expectLastRootAdmin(await as(rootToken).patch(admin, { scopes: [] }));
      expectLastRootAdmin(await as(rootToken).delete(`/v1/apps/${admin}`));
      expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);

      await as(rootToken).patch(admin, { name: 'owner', scopes: ['admin.orgs:full', 'admin.apps:full'] }).expect(200);
    });

    it('allows each once a second active root admin key exists, and then guards that one', async () => {
      const second = await as(rootToken).post(`/v1/apps/${ctx.root.adminApp.id}/keys`, { name: 'second' }).expect(201);
      const secondToken = await ctx.tokenOf({ orgId: ctx.root.org.id, keyId: second.body.key.id, secret: second.body.secret });
      await as(rootToken).revoke(ctx.root.key.id).expect(200);
      expectLastRootAdmin(await as(secondToken).revoke(second.body.key.id));
      expect(await keyStatus(second.body.key.id)).toBe('active');
    });

    it('lets the app of one root admin be demoted or deleted while another app holds admin.orgs:full with an active key', async () => {
      const owner = await as(rootToken).post('/v1/apps', { name: 'owners', scopes: ['admin.orgs:full'] }).expect(201);
      await as(rootToken).post(`/v1/apps/${owner.body.id}/keys`, { name: 'owner' }).expect(201);
      await as(rootToken).patch(ctx.root.adminApp.id, { scopes: ['admin.apps:full', 'admin.audit:view', 'admin.orgs:full'] }).expect(200);
      await as(rootToken).delete(`/v1/apps/${ctx.root.adminApp.id}`).expect(204);
    });

    it('counts neither revoked nor expired keys, nor keys of deleted apps, as a way in', async () => {
      const admin = ctx.root.adminApp.id;
      const expiring = await as(rootToken).post(`/v1/apps/${admin}/keys`, { name: 'soon', expires_at: new Date(ctx.clock.now() + 120_000).toISOString() }).expect(201);
      const revoked = await as(rootToken).post(`/v1/apps/${admin}/keys`, { name: 'gone' }).expect(201);
      await as(rootToken).revoke(revoked.body.key.id).expect(200);
      const deletedApp = await ctx.createClient(['admin.orgs:full']);
      await ctx.db.updateTable('apps').set({ deleted_at: ctx.clock.now() }).where('id', '=', deletedApp.appId).execute();

      ctx.clock.advance(121_000);
      expect(await keyStatus(expiring.body.key.id)).toBe('expired');
      expectLastRootAdmin(await as(rootToken).revoke(ctx.root.key.id));
    });

    it('lets the last root admin key roll, as its new key holds the power, and then guards the new key', async () => {
      const rolled = await as(rootToken).post(`/v1/keys/${ctx.root.key.id}/roll`, { grace_seconds: 0 }).expect(201);
      expect(await keyStatus(ctx.root.key.id)).toBe('expired');
      const newToken = await ctx.tokenOf({ orgId: ctx.root.org.id, keyId: rolled.body.key.id, secret: rolled.body.secret });
      await request(ctx.app).get('/v1/orgs').set('Authorization', `Bearer ${newToken}`).expect(200);
      expectLastRootAdmin(await as(newToken).revoke(rolled.body.key.id));
    });

    it('guards only the root org: another org may revoke its own last admin key', async () => {
      const acme = await ctx.createOrg('acme');
      const token = await ctx.tokenOf({ orgId: acme.org.id, keyId: acme.key.id, secret: acme.secret });
      await as(token).revoke(acme.key.id).expect(200);
    });

    it('takes no force from an API caller', async () => {
      const res = await request(ctx.app).post(`/v1/keys/${ctx.root.key.id}/revoke`).set('Authorization', `Bearer ${rootToken}`).send({ force: true });
      expect(res.status).toBe(400);
      expect(await keyStatus(ctx.root.key.id)).toBe('active');
    });

    it('leaves one of the last two root admin keys when both revoke themselves at the same moment', async () => {
      // PostgreSQL: two app instances, each with its own connection pool, as two servers of a
      // fleet. SQLite: one instance, as a server runs it (one connection; other processes
      // queue behind SQLite's write lock, which the check takes first).
      let second: { handle: DatabaseHandle; deps: AppDeps; app: App } | undefined;
      if (dialectCase.dialect === 'postgres') {
        const handle = await createDatabase(ctx.database.url, { schema: ctx.database.schema! });
        const deps = await createServices(ctx.deps.config, { db: handle.db, kek: ctx.kek, logger: testLogger(), clock: ctx.clock });
        second = { handle, deps, app: createApp(deps) };
      }
      try {
        for (let round = 0; round < 5; round++) {
          // Only the two keys of this round hold admin.orgs:full.
          await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now(), revoked_by: 'cli' }).where('revoked_at', 'is', null).execute();
          const keys = [await ctx.createKey(ctx.root.org.id, ctx.root.adminApp.id), await ctx.createKey(ctx.root.org.id, ctx.root.adminApp.id)];
          const tokens = await Promise.all(keys.map((k) => ctx.tokenOf({ orgId: ctx.root.org.id, keyId: k.key.id, secret: k.secret })));
          const results = await Promise.all(keys.map((k, i) => as(tokens[i]!).revoke(k.key.id, i === 1 && second ? second.app : ctx.app)));
          expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
          expectLastRootAdmin(results.find((r) => r.status === 409)!);
          const active = await ctx.db
            .selectFrom('api_keys')
            .select('id')
            .where('id', 'in', keys.map((k) => k.key.id))
            .where('revoked_at', 'is', null)
            .execute();
          expect(active).toHaveLength(1);
        }
      } finally {
        if (second) {
          second.deps.keyring.stop();
          second.deps.throttle.stop();
          await second.deps.lastUsed.stop();
          await second.handle.close();
        }
      }
    });
  });
});
