// Two instances on one database (as several behind a load balancer), each with its own
// key-policy job: the lease lets one run at a time, and even two sweeps forced to run at
// once (past the lease) revoke each key and send each reminder exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/domain/actor.js';
import { createKeyPoliciesJob, sweepKeyPolicies, type KeyPoliciesJobDeps } from '../../src/domain/key-policies.js';
import { updateOrg } from '../../src/domain/org-admin.js';
import { UNUSED_KEPT_ACTION } from '../../src/domain/unused-keys.js';
import { createDatabase, type DatabaseHandle } from '../../src/store/database.js';
import { getLease } from '../../src/store/leases.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { testLogger } from '../helpers/test-logger.js';

const DAY = 86_400_000;

describe.each(DIALECTS)('the key-policy sweeper on two instances, on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let secondDb: DatabaseHandle;
    let one: KeyPoliciesJobDeps;
    let two: KeyPoliciesJobDeps;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      secondDb = await createDatabase(ctx.database.url, ctx.database.schema === undefined ? {} : { schema: ctx.database.schema });
      one = { db: ctx.db, clock: ctx.clock, logger: testLogger(), catalog: ctx.deps.catalog, config: ctx.deps.config };
      two = { ...one, db: secondDb.db };
    });
    afterAll(async () => {
      await secondDb?.close();
      await ctx?.close();
    });

    const setPolicy = (orgId: string, days: number | null) => updateOrg(ctx.deps, cliActor(orgId), { orgId, autoRevokeUnusedDays: days });
    const countEvents = async (action: string) => {
      const rows = await ctx.db.selectFrom('audit_events').select('target_id').where('action', '=', action).where('actor', '=', 'system').execute();
      return rows.map((row) => row.target_id!);
    };
    const duplicates = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);

    /** An org of `n` keys of each kind: due for revocation, for the unused warning, expiring soon, expired. */
    async function seed(n: number) {
      const org = await ctx.createOrg('busy');
      const app = await ctx.createApp(org.org.id, ['agents:view']);
      await setPolicy(org.org.id, 10);
      const unused: string[] = [];
      for (let i = 0; i < n; i++) unused.push((await ctx.createKey(org.org.id, app.id)).key.id);
      ctx.clock.advance(5 * DAY);
      const warned: string[] = [];
      const expiring: string[] = [];
      const expired: string[] = [];
      for (let i = 0; i < n; i++) {
        warned.push((await ctx.createKey(org.org.id, app.id)).key.id);
        expiring.push((await ctx.createKey(org.org.id, app.id, { expiresAt: ctx.clock.now() + 10 * DAY })).key.id);
        expired.push((await ctx.createKey(org.org.id, app.id, { expiresAt: ctx.clock.now() + 4 * DAY })).key.id);
      }
      ctx.clock.advance(5 * DAY);
      return { org, unused: [...unused, org.key.id], warned, expiring, expired };
    }

    it('runs the job on one instance at a time: the other skips while the lease is held, and takes over once it is given up', async () => {
      const a = createKeyPoliciesJob(one, { holder: 'instance-a' });
      const b = createKeyPoliciesJob(two, { holder: 'instance-b' });
      ctx.clock.advance(DAY);
      const ran = await Promise.all([a.runOnce(), b.runOnce()]);
      expect(ran.filter(Boolean)).toHaveLength(1);
      const [first, other] = ran[0] ? [a, b] : [b, a];
      expect((await getLease(ctx.db, 'key-policies'))?.holder).toBe(ran[0] ? 'instance-a' : 'instance-b');
      expect(await other.runOnce()).toBe(false);
      expect(await first.runOnce()).toBe(true);
      await first.stop();
      expect(await other.runOnce()).toBe(true);
      await other.stop();
    });

    it('revokes each key and sends each reminder once when both instances’ jobs run at once, again and again', async () => {
      const seeded = await seed(8);
      const jobs = [createKeyPoliciesJob(one, { holder: 'instance-a' }), createKeyPoliciesJob(two, { holder: 'instance-b' })];
      for (let round = 0; round < 3; round++) {
        await Promise.all(jobs.map((job) => job.runOnce()));
        // Each round the lease has run out, so either may win it.
        ctx.clock.advance(60 * 60_000);
      }
      await Promise.all(jobs.map((job) => job.stop()));
      const revoked = await countEvents('key.revoked');
      expect(duplicates(revoked)).toEqual([]);
      for (const id of seeded.unused) expect(revoked).toContain(id);
      const expiring = await countEvents('key.expiring');
      expect(duplicates(expiring)).toEqual([]);
      for (const id of [...seeded.warned, ...seeded.expiring]) expect(expiring).toContain(id);
      const expired = await countEvents('key.expired');
      expect(duplicates(expired)).toEqual([]);
      for (const id of seeded.expired) expect(expired).toContain(id);
    });

    // Past the lease, sweeps really overlap only on PostgreSQL: SQLite serves one instance,
    // and two handles of one file in one process wait for each other's lock synchronously.
    const racing = it.skipIf(dialectCase.dialect === 'sqlite');

    racing('sends each reminder and revokes each key once even when four sweeps run at the same moment, past the lease', async () => {
      const seeded = await seed(12);
      const before = { revoked: await countEvents('key.revoked'), expiring: await countEvents('key.expiring'), expired: await countEvents('key.expired') };
      const counts = await Promise.all([sweepKeyPolicies(one), sweepKeyPolicies(two), sweepKeyPolicies(one), sweepKeyPolicies(two)]);
      const sum = (field: keyof (typeof counts)[number]) => counts.reduce((total, c) => total + c[field], 0);
      // What the sweeps say they did is what they wrote: no event twice.
      const after = { revoked: await countEvents('key.revoked'), expiring: await countEvents('key.expiring'), expired: await countEvents('key.expired') };
      expect(after.revoked.length - before.revoked.length).toBe(sum('revoked_unused'));
      expect(after.expiring.length - before.expiring.length).toBe(sum('unused_warnings') + sum('expiring'));
      expect(after.expired.length - before.expired.length).toBe(sum('expired'));
      for (const ids of Object.values(after)) expect(duplicates(ids)).toEqual([]);
      for (const id of seeded.unused) expect(after.revoked).toContain(id);
      for (const id of [...seeded.warned, ...seeded.expiring]) expect(after.expiring).toContain(id);
      for (const id of seeded.expired) expect(after.expired).toContain(id);
      const rows = await ctx.db.selectFrom('api_keys').select(['id', 'revoked_at', 'revoke_reason']).where('id', 'in', seeded.unused).execute();
      expect(rows.every((row) => row.revoke_reason === 'unused')).toBe(true);
    });

    racing('keeps the root org’s last admin key when two sweeps race to revoke its last two', async () => {
      const second = await ctx.createKey(ctx.root.org.id, ctx.root.adminApp.id, { name: 'second admin' });
      await setPolicy(ctx.root.org.id, 30);
      ctx.clock.advance(31 * DAY);
      await Promise.all([sweepKeyPolicies(one), sweepKeyPolicies(two)]);
      const rows = await ctx.db.selectFrom('api_keys').select(['id', 'revoke_reason']).where('id', 'in', [ctx.root.key.id, second.key.id]).execute();
      expect(rows.map((row) => row.revoke_reason).sort()).toEqual([null, 'unused']);
      expect(await countEvents(UNUSED_KEPT_ACTION)).toHaveLength(1);
      await setPolicy(ctx.root.org.id, null);
    });
  });
});
