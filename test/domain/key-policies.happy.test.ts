// The key-policy sweeper as an admin meets it: keys unused for their org's
// auto_revoke_unused_days revoked by the server, and the reminders (audit events, which
// webhooks deliver) sent once each. The job runs on the test clock through runOnce.
import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/domain/actor.js';
import { createKeyPoliciesJob, KEY_POLICIES_JOB, SWEEP_PAGE_SIZE } from '../../src/domain/key-policies.js';
import { updateOrg } from '../../src/domain/org-admin.js';
import { createLogger } from '../../src/logger.js';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { keyRow } from '../helpers/rows.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(DIALECTS)('the key-policy sweeper on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    const sweep = () => ctx.deps.jobs.find((job) => job.name === KEY_POLICIES_JOB)!.runOnce();
    const setPolicy = (orgId: string, days: number | null) => updateOrg(ctx.deps, cliActor(orgId), { orgId, autoRevokeUnusedDays: days });
    const keyOf = (id: string) => ctx.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    /** A tenant with an app; its own admin key is left out of what the tests count. */
    async function tenant(name: string) {
      const created = await ctx.createOrg(name);
      const app = await ctx.createApp(created.org.id, ['agents:view']);
      return { ...created, orgId: created.org.id, appId: app.id };
    }
    async function use(orgId: string, key: { key: { id: string }; secret: string }) {
      await ctx.exchange({ orgId, keyId: key.key.id, secret: key.secret }).expect(200);
      await ctx.deps.lastUsed.flush();
    }
    const eventsAbout = async (orgId: string, keyId: string, action: string) => auditEvents(ctx, orgId, { action, target_id: keyId });
    /** Sweeps 1 ms before `ms` from now (no `action` event about the key yet), then twice at it: the events sent. */
    const sweepAcross = async (ms: number, orgId: string, keyId: string, action: string) => {
      ctx.clock.advance(ms - 1);
      await sweep();
      expect(await eventsAbout(orgId, keyId, action)).toEqual([]);
      ctx.clock.advance(1);
      await sweep();
      await sweep();
      return eventsAbout(orgId, keyId, action);
    };

    it('is registered as a background job of the server', () => {
      expect(ctx.deps.jobs.map((job) => job.name)).toContain(KEY_POLICIES_JOB);
    });

    it('revokes a key unused for the org’s days (reason unused, actor system) and keeps a key used meanwhile; a never-used key counts from its creation', async () => {
      const org = await tenant('tidy');
      const idle = await ctx.createKey(org.orgId, org.appId, { name: 'idle' });
      const busy = await ctx.createKey(org.orgId, org.appId, { name: 'busy' });
      await setPolicy(org.orgId, 30);
      ctx.clock.advance(20 * DAY);
      await use(org.orgId, busy);
      const usedAt = ctx.clock.now();
      ctx.clock.advance(10 * DAY - 1);
      expect(await sweep()).toBe(true);
      expect((await keyOf(idle.key.id)).revoked_at).toBeNull();

      ctx.clock.advance(1);
      expect(await sweep()).toBe(true);
      expect(await keyOf(idle.key.id)).toMatchObject({ revoked_at: ctx.clock.now(), revoked_by: 'system', revoke_reason: 'unused' });
      expect(await keyOf(busy.key.id)).toMatchObject({ revoked_at: null, last_used_at: usedAt });
      // The org's own admin key, never used either, is no exception outside the root org.
      expect((await keyOf(org.key.id)).revoke_reason).toBe('unused');
      const [event] = await eventsAbout(org.orgId, idle.key.id, 'key.revoked');
      expect(event).toMatchObject({
        actor: 'system',
        actor_name: 'system',
        target_type: 'key',
        details: { app_id: org.appId, name: 'idle', reason: 'unused', unused_days: 30, last_used_at: null },
      });
      await ctx.exchange({ orgId: org.orgId, keyId: idle.key.id, secret: idle.secret }).expect(401);

      // A used key goes too, once unused that long since its last use, with when that was.
      ctx.clock.advance(20 * DAY);
      await sweep();
      expect(await keyOf(busy.key.id)).toMatchObject({ revoke_reason: 'unused' });
      expect((await eventsAbout(org.orgId, busy.key.id, 'key.revoked'))[0]!.details).toMatchObject({ last_used_at: iso(usedAt), unused_days: 30 });
    });

    it('warns once with key.expiring (reason unused) within 7 days of the revocation, and again after the key was used and fell idle again', async () => {
      const org = await tenant('warned');
      const key = await ctx.createKey(org.orgId, org.appId, { name: 'quiet' });
      const createdAt = ctx.clock.now();
      await setPolicy(org.orgId, 10);
      const warnings = await sweepAcross(3 * DAY, org.orgId, key.key.id, 'key.expiring');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        actor: 'system',
        target_type: 'key',
        details: { app_id: org.appId, name: 'quiet', reason: 'unused', revokes_at: iso(createdAt + 10 * DAY), last_used_at: null, unused_days: 10 },
      });
      expect((await keyOf(key.key.id)).unused_notified_at).toBe(ctx.clock.now());

      // Used after the warning: a new idle stretch, warned about in its turn.
      ctx.clock.advance(DAY);
      await use(org.orgId, key);
      const usedAt = ctx.clock.now();
      ctx.clock.advance(2 * DAY);
      await sweep();
      expect(await eventsAbout(org.orgId, key.key.id, 'key.expiring')).toHaveLength(1);
      ctx.clock.advance(DAY);
      await sweep();
      const again = await eventsAbout(org.orgId, key.key.id, 'key.expiring');
      expect(again).toHaveLength(2);
      expect(again[0]!.details).toMatchObject({ reason: 'unused', revokes_at: iso(usedAt + 10 * DAY), last_used_at: iso(usedAt) });
      expect((await keyOf(key.key.id)).revoked_at).toBeNull();
    });

    it('does not warn about a revocation the key’s own expiry comes before', async () => {
      const org = await tenant('expires first');
      const key = await ctx.createKey(org.orgId, org.appId, { expiresAt: ctx.clock.now() + 20 * DAY });
      await setPolicy(org.orgId, 25);
      ctx.clock.advance(19 * DAY);
      await sweep();
      const events = await eventsAbout(org.orgId, key.key.id, 'key.expiring');
      expect(events.map((e) => e.details['reason'])).toEqual(['expiry']);
    });

    it('sends key.expiring (reason expiry) once for a key expiring within 7 days, and key.expired once when it has', async () => {
      const org = await tenant('expiring');
      const expiresAt = ctx.clock.now() + 10 * DAY;
      const key = await ctx.createKey(org.orgId, org.appId, { name: 'monthly', expiresAt });
      const far = await ctx.createKey(org.orgId, org.appId, { name: 'yearly', expiresAt: ctx.clock.now() + 365 * DAY });
      const expiring = await sweepAcross(3 * DAY, org.orgId, key.key.id, 'key.expiring');
      expect(expiring).toHaveLength(1);
      expect(expiring[0]).toMatchObject({ actor: 'system', target_type: 'key', details: { app_id: org.appId, name: 'monthly', expires_at: iso(expiresAt), reason: 'expiry' } });
      expect(await eventsAbout(org.orgId, key.key.id, 'key.expired')).toEqual([]);

      ctx.clock.set(expiresAt);
      await sweep();
      await sweep();
      const expired = await eventsAbout(org.orgId, key.key.id, 'key.expired');
      expect(expired).toHaveLength(1);
      expect(expired[0]).toMatchObject({ actor: 'system', target_type: 'key', details: { app_id: org.appId, name: 'monthly', expires_at: iso(expiresAt) } });
      expect(await keyOf(key.key.id)).toMatchObject({ expiring_notified_at: expiresAt - 7 * DAY, expired_notified_at: expiresAt, revoked_at: null });
      for (const action of ['key.expiring', 'key.expired']) expect(await eventsAbout(org.orgId, far.key.id, action)).toEqual([]);
    });

    it('reminds of a rolled key’s grace end once; a roll that shortens an expiry already reminded of sends nothing more', async () => {
      const org = await tenant('rolled');
      const token = await ctx.tokenOf({ orgId: org.orgId, keyId: org.key.id, secret: org.secret });
      const roll = (keyId: string, graceSeconds: number) =>
        request(ctx.app).post(`/v1/keys/${keyId}/roll`).set('Authorization', `Bearer ${token}`).send({ grace_seconds: graceSeconds }).expect(201);
      const forever = await ctx.createKey(org.orgId, org.appId, { name: 'forever' });
      await roll(forever.key.id, 86_400);
      await sweep();
      expect((await eventsAbout(org.orgId, forever.key.id, 'key.expiring')).map((e) => e.details['expires_at'])).toEqual([iso(ctx.clock.now() + DAY)]);

      const soon = await ctx.createKey(org.orgId, org.appId, { name: 'soon', expiresAt: ctx.clock.now() + 5 * DAY });
      await sweep();
      expect(await eventsAbout(org.orgId, soon.key.id, 'key.expiring')).toHaveLength(1);
      await roll(soon.key.id, 3600);
      await sweep();
      expect(await eventsAbout(org.orgId, soon.key.id, 'key.expiring')).toHaveLength(1);
    });

    it('stops once the policy is turned off: nothing revoked, nothing warned', async () => {
      const org = await tenant('relaxed');
      const key = await ctx.createKey(org.orgId, org.appId);
      await setPolicy(org.orgId, 5);
      ctx.clock.advance(4 * DAY);
      await sweep();
      expect(await eventsAbout(org.orgId, key.key.id, 'key.expiring')).toHaveLength(1);
      await setPolicy(org.orgId, null);
      ctx.clock.advance(30 * DAY);
      await sweep();
      expect((await keyOf(key.key.id)).revoked_at).toBeNull();
      expect((await keyOf(org.key.id)).revoked_at).toBeNull();
      expect(await eventsAbout(org.orgId, key.key.id, 'key.expiring')).toHaveLength(1);
      expect(await auditEvents(ctx, org.orgId, { action: 'key.revoked' })).toEqual([]);
    });

    it('leaves alone keys already revoked or expired, keys of deleted apps, and disabled orgs', async () => {
      const org = await tenant('quiet corners');
      await setPolicy(org.orgId, 1);
      const revoked = await ctx.createKey(org.orgId, org.appId);
      await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now(), revoked_by: 'cli', revoke_reason: 'done' }).where('id', '=', revoked.key.id).execute();
      const expired = await ctx.createKey(org.orgId, org.appId, { expiresAt: ctx.clock.now() + DAY });
      const gone = await ctx.createApp(org.orgId, ['agents:view'], { deleted_at: ctx.clock.now() });
      const ofGone = await ctx.createKey(org.orgId, gone.id, { expiresAt: ctx.clock.now() + DAY });
      const off = await tenant('switched off');
      await setPolicy(off.orgId, 1);
      const offKey = await ctx.createKey(off.orgId, off.appId, { expiresAt: ctx.clock.now() + 3 * DAY });
      await updateOrg(ctx.deps, cliActor(off.orgId), { orgId: off.orgId, disabled: true });
      ctx.clock.advance(2 * DAY);
      await sweep();
      expect(await keyOf(revoked.key.id)).toMatchObject({ revoke_reason: 'done', revoked_by: 'cli' });
      expect(await keyOf(expired.key.id)).toMatchObject({ revoked_at: null });
      expect(await keyOf(ofGone.key.id)).toMatchObject({ revoked_at: null, expired_notified_at: null, expiring_notified_at: null });
      expect(await keyOf(offKey.key.id)).toMatchObject({ revoked_at: null, expiring_notified_at: null, unused_notified_at: null });
      expect(await auditEvents(ctx, off.orgId, { action: 'key.revoked' })).toEqual([]);
      // The expired key is reported expired, not revoked.
      expect(await eventsAbout(org.orgId, expired.key.id, 'key.expired')).toHaveLength(1);
    });

    it('works off more due keys than a page holds in one run', async () => {
      const org = await tenant('crowded');
      const now = ctx.clock.now();
      const ids: string[] = [];
      for (let i = 0; i < SWEEP_PAGE_SIZE + 5; i++) {
        const row = keyRow(org.orgId, org.appId, now - i, { id: `key_${String(now).padStart(16, '0')}${String(i).padStart(10, '0')}` });
        ids.push(row.id);
        await ctx.db.insertInto('api_keys').values(row).execute();
      }
      await setPolicy(org.orgId, 2);
      ctx.clock.advance(2 * DAY);
      await sweep();
      const left = await ctx.db.selectFrom('api_keys').select('id').where('id', 'in', ids).where('revoked_at', 'is', null).execute();
      expect(left).toEqual([]);
      expect(await auditEvents(ctx, org.orgId, { action: 'key.revoked', limit: 200 })).toHaveLength(SWEEP_PAGE_SIZE + 6);
    });

    it('logs each run with its counts (info when it did something), and counts them in the metrics', async () => {
      const lines: Record<string, unknown>[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      });
      const job = createKeyPoliciesJob({ ...ctx.deps, logger: createLogger('debug', sink) }, { holder: 'logged' });
      // The test context's job holds the lease: this one waits for it to end.
      ctx.clock.advance(DAY);
      const org = await tenant('logged');
      await setPolicy(org.orgId, 1);
      ctx.clock.advance(DAY);
      expect(await job.runOnce()).toBe(true);
      expect(await job.runOnce()).toBe(true);
      await job.stop();
      const runs = lines.filter((line) => line['msg'] === 'key policies swept');
      expect(runs).toHaveLength(2);
      // The first run also works off what earlier tests left due; the second finds nothing.
      expect(runs[0]).toMatchObject({ level: 30, job: 'key-policies', revoked_unused: expect.any(Number), kept_last_root_admin: 0 });
      expect(runs[0]!['revoked_unused']).toBeGreaterThanOrEqual(1);
      expect(runs[1]).toMatchObject({ level: 20, revoked_unused: 0, kept_last_root_admin: 0, unused_warnings: 0, expiring: 0, expired: 0 });
      expect((await keyOf(org.key.id)).revoke_reason).toBe('unused');
      expect(await ctx.deps.metrics.render()).toMatch(/^scope_auth_key_policy_actions_total\{action="revoked_unused"\} [1-9]\d*$/m);
    });
  });
});
