import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRefusalAudit, type RefusalAudit } from '../../src/domain/refusal-audit.js';
import { insertOrg } from '../../src/store/orgs.js';
import { createTestClock, type TestClock } from '../helpers/clock.js';
import { DIALECTS, dialectTitle, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { orgRow } from '../helpers/rows.js';
import { testLogger } from '../helpers/test-logger.js';

const MINUTE = 60_000;

describe.each(DIALECTS)('aggregated refusal events on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let database: TestDatabase;
    let clock: TestClock;
    let audit: RefusalAudit;
    let orgId: string;

    beforeEach(async () => {
      database = await openTestDatabase(dialectCase.dialect);
      clock = createTestClock();
      const org = orgRow(clock.now());
      await insertOrg(database.handle.db, org);
      orgId = org.id;
      audit = createRefusalAudit({ db: database.handle.db, clock, logger: testLogger(), action: 'token.refused', maxPending: 4 });
    });
    afterEach(async () => {
      await audit.stop();
      await database.close();
    });

    const events = async () =>
      (await database.handle.db.selectFrom('audit_events').selectAll().where('org_id', '=', orgId).orderBy('id').execute()).map((row) => ({
        ...row,
        details: JSON.parse(row.details) as Record<string, unknown>,
      }));

    it('writes the first refusal at once and the rest of its minute as one event with their count', async () => {
      for (let i = 0; i < 500; i++) audit.add({ orgId, ip: '203.0.113.7', targetId: `key_${i % 3}`, reason: 'unknown_key' });
      await audit.flush();
      const first = await events();
      expect(first).toHaveLength(1);
      expect(first[0]).toMatchObject({ actor: 'anonymous', action: 'token.refused', ip: '203.0.113.7', target_id: 'key_0' });
      expect(first[0]!.details).toMatchObject({ reason: 'unknown_key', count: 1 });
      clock.advance(MINUTE);
      await audit.flush();
      const written = await events();
      expect(written).toHaveLength(2);
      expect(written[1]).toMatchObject({ target_id: null });
      expect(written[1]!.details).toMatchObject({ reason: 'unknown_key', count: 499, key_ids: ['key_1', 'key_2', 'key_0'] });
    });

    it('keeps sources and reasons apart, and counts an IPv6 /64 as one source', async () => {
      audit.add({ orgId, ip: '203.0.113.7', targetId: 'key_a', reason: 'throttled', details: { retry_after_seconds: 42 } });
      audit.add({ orgId, ip: '203.0.113.8', targetId: 'key_a', reason: 'throttled' });
      audit.add({ orgId, ip: '203.0.113.7', targetId: 'key_a', reason: 'org_mismatch' });
      audit.add({ orgId, ip: '2001:db8:1:2::1', targetId: 'key_a', reason: 'throttled' });
      audit.add({ orgId, ip: '2001:db8:1:2::ffff', targetId: 'key_a', reason: 'throttled' });
      await audit.flush({ all: true });
      const written = await events();
      // Written in the same millisecond, so in no particular id order.
      expect(written.map((e) => `${e.ip} ${String(e.details.reason)} ${String(e.details.count)}`).sort()).toEqual([
        '2001:db8:1:2::1 throttled 1',
        '2001:db8:1:2::ffff throttled 1',
        '203.0.113.7 org_mismatch 1',
        '203.0.113.7 throttled 1',
        '203.0.113.8 throttled 1',
      ]);
      expect(written.find((e) => e.ip === '203.0.113.7' && e.details.reason === 'throttled')!.details.retry_after_seconds).toBe(42);
    });

    it("writes a steady flood as one event a minute, each with the minute's count", async () => {
      for (let minute = 0; minute < 3; minute++) {
        for (let i = 0; i < 50; i++) audit.add({ orgId, ip: '203.0.113.7', targetId: 'key_x', reason: 'unknown_key' });
        clock.advance(MINUTE);
      }
      await audit.flush();
      expect((await events()).map((e) => e.details.count)).toEqual([1, 50, 50, 49]);
    });

    it("bounds what it holds: beyond its limit the oldest window's count is written early", async () => {
      for (let source = 1; source <= 6; source++) {
        audit.add({ orgId, ip: `203.0.113.${source}`, targetId: 'key_x', reason: 'unknown_key' });
        audit.add({ orgId, ip: `203.0.113.${source}`, targetId: 'key_x', reason: 'unknown_key' });
      }
      await audit.flush();
      const written = await events();
      expect(written).toHaveLength(8);
      expect(written.filter((e) => e.details.count === 1 && e.details.first_at !== e.details.last_at)).toEqual([]);
    });

    it('writes every count still held when stopped', async () => {
      audit.add({ orgId, ip: '203.0.113.7', targetId: 'key_x', reason: 'unknown_key' });
      audit.add({ orgId, ip: '203.0.113.7', targetId: 'key_x', reason: 'unknown_key' });
      await audit.stop();
      expect((await events()).map((e) => e.details.count)).toEqual([1, 1]);
    });
  });
});
