// The admin use cases as the operator CLI calls them: cliActor(orgId) may grant anything
// (but admin.orgs:full still only inside the root org), and is recorded as `cli`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor, type Actor } from '../../src/domain/actor.js';
import { createApp, deleteApp, getApp, listApps, updateApp } from '../../src/domain/apps.js';
import { listAuditEvents } from '../../src/domain/audit.js';
import { newId } from '../../src/domain/credentials.js';
import { createKey, deleteKey, getKey, listKeys, revokeKey, rollKey } from '../../src/domain/keys.js';
import { createOrg, listOrgs } from '../../src/domain/orgs.js';
import { ExceedsCallerScopeError, ForbiddenError, InsufficientScopeError, InvalidRequestError, LastRootAdminError, NotFoundError } from '../../src/errors.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('admin use cases for the CLI on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let cli: Actor;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      cli = cliActor(ctx.root.org.id);
    });
    afterAll(async () => ctx?.close());

    it('creates an app and a key as `cli`, with every admin scope, and audits them with no ip', async () => {
      const app = await createApp(ctx.deps, cli, { name: 'ops', scopes: ['admin.apps:full', 'admin.orgs:full', 'tokens:introspect'] });
      expect(app).toMatchObject({ created_by: 'cli', org_id: ctx.root.org.id, scopes: ['admin.apps:full', 'admin.orgs:full', 'tokens:introspect'] });
      expect(app.effective_scopes).toContain('admin.apps:view');
      const { key, secret } = await createKey(ctx.deps, cli, { appId: app.id, name: 'ops' });
      expect(key).toMatchObject({ created_by: 'cli', status: 'active', app_id: app.id });
      expect(key).not.toHaveProperty('secret_hash');
      await ctx.exchange({ orgId: ctx.root.org.id, keyId: key.id, secret }).expect(200);
      const events = await listAuditEvents(ctx.deps, cli, { targetId: key.id });
      expect(events.data[0]).toMatchObject({ actor: 'cli', ip: null, action: 'key.created' });
    });

    it('still keeps admin.orgs:full inside the root org', async () => {
      const tenant = await createOrg(ctx.deps, cli, { name: 'tenant' });
      expect(tenant.adminApp.scopes).not.toContain('admin.orgs:full');
      await expect(createApp(ctx.deps, cliActor(tenant.org.id), { name: 'x', scopes: ['admin.orgs:full'] })).rejects.toThrow(ForbiddenError);
      const orgs = await listOrgs(ctx.deps, cli, { limit: 200 });
      expect(orgs.data.map((o) => o.id)).toContain(tenant.org.id);
    });

    it('revokes, rolls, lists and deletes keys', async () => {
      const app = await createApp(ctx.deps, cli, { name: 'svc', scopes: ['tools:deploy'] });
      const first = await createKey(ctx.deps, cli, { appId: app.id, name: 'k' });
      const rolled = await rollKey(ctx.deps, cli, { keyId: first.key.id, graceSeconds: 60 });
      expect(rolled.previous.expires_at).toBe(ctx.clock.now() + 60_000);
      const revoked = await revokeKey(ctx.deps, cli, { keyId: first.key.id, reason: 'done' });
      expect(revoked).toMatchObject({ status: 'revoked', revoked_by: 'cli', revoke_reason: 'done' });
      const listed = await listKeys(ctx.deps, cli, { appId: app.id, status: 'active' });
      expect(listed.data.map((k) => k.id)).toEqual([rolled.key.id]);
      await deleteKey(ctx.deps, cli, { keyId: rolled.key.id });
      await expect(getKey(ctx.deps, cli, { keyId: rolled.key.id })).rejects.toThrow(NotFoundError);
      await updateApp(ctx.deps, cli, { appId: app.id, name: 'svc2' });
      await deleteApp(ctx.deps, cli, { appId: app.id });
      await expect(getApp(ctx.deps, cli, { appId: app.id })).rejects.toThrow(NotFoundError);
    });

    it('confines every call to the actor’s org', async () => {
      const app = await createApp(ctx.deps, cli, { name: 'mine', scopes: [] });
      const elsewhere = cliActor((await ctx.createOrg('elsewhere')).org.id);
      await expect(getApp(ctx.deps, elsewhere, { appId: app.id })).rejects.toThrow(NotFoundError);
      await expect(createKey(ctx.deps, elsewhere, { appId: app.id, name: 'k' })).rejects.toThrow(NotFoundError);
      expect((await listApps(ctx.deps, elsewhere)).data.map((a) => a.id)).not.toContain(app.id);
      await expect(createApp(ctx.deps, cliActor(newId('org', ctx.clock.now())), { name: 'x', scopes: [] })).rejects.toThrow(NotFoundError);
    });

    it('checks scopes and input itself, whoever calls it', async () => {
      const viewer: Actor = { orgId: ctx.root.org.id, id: 'key_x', ip: null, scopes: new Set(['admin.apps:view']) };
      await expect(createApp(ctx.deps, viewer, { name: 'x', scopes: [] })).rejects.toThrow(InsufficientScopeError);
      await expect(listApps(ctx.deps, cli, { limit: 0 })).rejects.toThrow(InvalidRequestError);
      await expect(listApps(ctx.deps, cli, { cursor: 'nope' })).rejects.toThrow(InvalidRequestError);
      await expect(createApp(ctx.deps, cli, { name: ' ', scopes: [] })).rejects.toThrow(InvalidRequestError);
      await expect(createApp(ctx.deps, cli, { name: 'x', scopes: ['nope'] })).rejects.toThrow(/unknown scope "nope"/);
      await expect(createApp(ctx.deps, cli, { name: 'x', scopes: [], tokenTtlSeconds: 10 })).rejects.toThrow(InvalidRequestError);
      await expect(rollKey(ctx.deps, cli, { keyId: ctx.root.key.id, graceSeconds: -1 })).rejects.toThrow(InvalidRequestError);
    });

    it('is exempt from least privilege among admins, which holds for any other caller', async () => {
      const app = await createApp(ctx.deps, cli, { name: 'auditors', scopes: ['admin.audit:view'] });
      const editor: Actor = { orgId: ctx.root.org.id, id: 'key_x', ip: null, scopes: new Set(['admin.apps:edit', 'admin.apps:view']) };
      await expect(createKey(ctx.deps, editor, { appId: app.id, name: 'k' })).rejects.toThrow(ExceedsCallerScopeError);
      await expect(updateApp(ctx.deps, editor, { appId: app.id, name: 'mine' })).rejects.toThrow(ExceedsCallerScopeError);
      const { key } = await createKey(ctx.deps, cli, { appId: app.id, name: 'k' });
      await revokeKey(ctx.deps, cli, { keyId: key.id });
    });

    it('keeps the root org’s last admin for the CLI too unless forced, and only the operator can force it', async () => {
      // Only the bootstrap key is left holding admin.orgs:full.
      await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now(), revoked_by: 'cli' }).where('org_id', '=', ctx.root.org.id).where('id', '!=', ctx.root.key.id).execute();
      const rootAdmin: Actor = { orgId: ctx.root.org.id, id: ctx.root.key.id, ip: null, scopes: new Set(ctx.deps.catalog.builtins) };
      await expect(revokeKey(ctx.deps, rootAdmin, { keyId: ctx.root.key.id, force: true })).rejects.toThrow(LastRootAdminError);
      await expect(deleteKey(ctx.deps, cli, { keyId: ctx.root.key.id })).rejects.toThrow(LastRootAdminError);
      await expect(deleteApp(ctx.deps, cli, { appId: ctx.root.adminApp.id })).rejects.toThrow(LastRootAdminError);
      await ctx.exchange(ctx.rootCredentials).expect(200);
    });

    it('makes ids in the same millisecond sort in the order they were made', () => {
      const ids = Array.from({ length: 100 }, () => newId('event', ctx.clock.now()));
      expect([...ids].sort()).toEqual(ids);
    });
  });
});
