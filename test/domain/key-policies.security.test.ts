// The key-policy sweeper's limits: one org's policy touches only that org's keys, and the
// root org keeps its last active way in holding admin.orgs:full, however long unused.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/domain/actor.js';
import { KEY_POLICIES_JOB } from '../../src/domain/key-policies.js';
import { updateOrg } from '../../src/domain/org-admin.js';
import { UNUSED_KEPT_ACTION } from '../../src/domain/unused-keys.js';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson } from '../helpers/people.js';

const DAY = 86_400_000;

describe.each(DIALECTS)('the key-policy sweeper’s limits on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeEach(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterEach(async () => ctx?.close());

    const sweep = () => ctx.deps.jobs.find((job) => job.name === KEY_POLICIES_JOB)!.runOnce();
    const setPolicy = (orgId: string, days: number | null) => updateOrg(ctx.deps, cliActor(orgId), { orgId, autoRevokeUnusedDays: days });
    const keyOf = (id: string) => ctx.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const keysOf = (orgId: string) => ctx.db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).orderBy('id').execute();

    it('never revokes, nor warns about, another org’s keys: org A’s policy is org A’s', async () => {
      const a = await ctx.createOrg('A');
      const b = await ctx.createOrg('B');
      const appB = await ctx.createApp(b.org.id, ['agents:view']);
      await ctx.createKey(b.org.id, appB.id, { expiresAt: ctx.clock.now() + 100 * DAY });
      await setPolicy(a.org.id, 1);
      const before = await keysOf(b.org.id);
      const eventsBefore = await auditEvents(ctx, b.org.id);
      ctx.clock.advance(2 * DAY);
      await sweep();
      expect((await keyOf(a.key.id)).revoke_reason).toBe('unused');
      expect(await keysOf(b.org.id)).toEqual(before);
      expect(await auditEvents(ctx, b.org.id)).toEqual(eventsBefore);
      // Every event the sweep filed in A's log is about A's own keys.
      const aKeys = new Set((await keysOf(a.org.id)).map((k) => k.id));
      for (const event of await auditEvents(ctx, a.org.id)) if (event.actor === 'system' && event.action.startsWith('key.')) expect(aKeys.has(event.target_id!)).toBe(true);
    });

    it('keeps the root org’s last admin key however long unused, and says so once in its log', async () => {
      await setPolicy(ctx.root.org.id, 30);
      const other = await ctx.createClient(['agents:view']);
      ctx.clock.advance(30 * DAY);
      await sweep();
      await sweep();
      expect((await keyOf(ctx.root.key.id)).revoked_at).toBeNull();
      // A root-org key that is no way in goes as any other.
      expect((await keyOf(other.keyId)).revoke_reason).toBe('unused');
      const kept = await auditEvents(ctx, ctx.root.org.id, { action: UNUSED_KEPT_ACTION });
      expect(kept).toHaveLength(1);
      expect(kept[0]).toMatchObject({
        actor: 'system',
        target_type: 'key',
        target_id: ctx.root.key.id,
        details: { app_id: ctx.root.adminApp.id, name: 'admin', reason: 'last_root_admin', unused_days: 30, last_used_at: null },
      });
      expect(await auditEvents(ctx, ctx.root.org.id, { action: 'key.revoked', target_id: ctx.root.key.id })).toEqual([]);
      // It still works: the operator is not locked out.
      await ctx.exchange(ctx.rootCredentials).expect(200);
    });

    it('revokes an unused root admin key once another way in exists, and then keeps that one', async () => {
      await setPolicy(ctx.root.org.id, 30);
      ctx.clock.advance(30 * DAY);
      await sweep();
      expect((await keyOf(ctx.root.key.id)).revoked_at).toBeNull();
      const replacement = await ctx.createKey(ctx.root.org.id, ctx.root.adminApp.id, { name: 'replacement' });
      await sweep();
      expect((await keyOf(ctx.root.key.id)).revoke_reason).toBe('unused');
      ctx.clock.advance(30 * DAY);
      await sweep();
      expect((await keyOf(replacement.key.id)).revoked_at).toBeNull();
      expect((await auditEvents(ctx, ctx.root.org.id, { action: UNUSED_KEPT_ACTION })).map((e) => e.target_id)).toEqual([replacement.key.id, ctx.root.key.id]);
    });

    it('of two unused root admin keys due at once, revokes one and keeps the other', async () => {
      const second = await ctx.createKey(ctx.root.org.id, ctx.root.adminApp.id, { name: 'second admin' });
      await setPolicy(ctx.root.org.id, 7);
      ctx.clock.advance(7 * DAY);
      await sweep();
      const states = [await keyOf(ctx.root.key.id), await keyOf(second.key.id)].map((k) => k.revoke_reason);
      expect(states.sort()).toEqual([null, 'unused']);
    });

    it('counts an active owner of the root org as a way in, as an admin’s revocation does', async () => {
      await createPerson(ctx, { role: 'owner' });
      await setPolicy(ctx.root.org.id, 30);
      ctx.clock.advance(30 * DAY);
      await sweep();
      expect((await keyOf(ctx.root.key.id)).revoke_reason).toBe('unused');
      expect(await auditEvents(ctx, ctx.root.org.id, { action: UNUSED_KEPT_ACTION })).toEqual([]);
    });

    it('files no secret, hash or digest in any event it writes', async () => {
      const a = await ctx.createOrg('A');
      const app = await ctx.createApp(a.org.id, ['agents:view']);
      const key = await ctx.createKey(a.org.id, app.id, { expiresAt: ctx.clock.now() + 3 * DAY });
      await setPolicy(a.org.id, 5);
      await setPolicy(ctx.root.org.id, 5);
      ctx.clock.advance(5 * DAY);
      await sweep();
      const written = JSON.stringify([...(await auditEvents(ctx, a.org.id)), ...(await auditEvents(ctx, ctx.root.org.id))]);
      const row = await keyOf(key.key.id);
      for (const secret of [key.secret, a.secret, ctx.root.secret, row.secret_hash]) expect(written).not.toContain(secret);
    });
  });
});
