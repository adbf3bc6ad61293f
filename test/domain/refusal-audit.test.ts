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

    it('writes one event per (org, source, reason) and minute, with the count, however many refusals arrive', async () => {
      for (let i = 0; i < 500; i++) audit.add({ orgId, ip: '203.0.113.7', keyId: `key_${i % 3}`, reason: 'unknown_key' });
      await audit.flush();
      expect(await events()).toEqual([]);
      clock.advance(MINUTE);
      await audit.flush();
      const written = await events();
      expect(written).toHaveLength(1);
      expect(written[0]).toMatchObject({ actor: 'anonymous', action: 'token.refused', ip: '203.0.113.7', target_id: null });
      expect(written[0]!.details).toMatchObject({ reason: 'unknown_key', count: 500, key_ids: ['key_0', 'key_1', 'key_2'] });
    });

    it('keeps sources and reasons apart, and counts an IPv6 /64 as one source', async () => {
      audit.add({ orgId, ip: '203.0.113.7', keyId: 'key_a', reason: 'throttled' });
      audit.add({ orgId, ip: '203.0.113.8', keyId: 'key_a', reason: 'throttled' });
      audit.add({ orgId, ip: '203.0.113.7', keyId: 'key_a', reason: 'org_mismatch' });
      audit.add({ orgId, ip: '2001:db8:1:2::1', keyId: 'key_a', reason: 'throttled' });
      audit.add({ orgId, ip: '2001:db8:1:2::ffff', keyId: 'key_a', reason: 'throttled' });
      await audit.flush({ all: true });
      const written = await events();
      expect(written.map((e) => [e.ip, e.details.reason, e.details.count, e.target_id])).toEqual([
        ['203.0.113.7', 'throttled', 1, 'key_a'],
        ['203.0.113.8', 'throttled', 1, 'key_a'],
        ['203.0.113.7', 'org_mismatch', 1, 'key_a'],
        ['2001:db8:1:2::1', 'throttled', 2, 'key_a'],
      ]);
    });

    it('opens a new window after a minute, so a steady flood writes one event a minute', async () => {
      for (let minute = 0; minute < 3; minute++) {
        for (let i = 0; i < 50; i++) audit.add({ orgId, ip: '203.0.113.7', keyId: 'key_x', reason: 'unknown_key' });
        clock.advance(MINUTE);
      }
      await audit.flush();
      expect((await events()).map((e) => e.details.count)).toEqual([50, 50, 50]);
    });

    it('bounds what it holds: beyond its limit the oldest window is written early', async () => {
      for (let source = 1; source <= 6; source++) audit.add({ orgId, ip: `203.0.113.${source}`, keyId: 'key_x', reason: 'unknown_key' });
      await audit.flush();
      expect((await events()).map((e) => e.ip)).toEqual(['203.0.113.1', '203.0.113.2']);
    });

    it('writes every open window when stopped', async () => {
      audit.add({ orgId, ip: '203.0.113.7', keyId: 'key_x', reason: 'unknown_key' });
      await audit.stop();
      expect(await events()).toHaveLength(1);
    });
  });
});
