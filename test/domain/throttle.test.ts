import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { databaseCounters, type CounterStore } from '../../src/domain/counter-stores.js';
import { createThrottle, type Reservation, type Throttle, type ThrottleOptions } from '../../src/domain/throttle.js';
import { createTestClock, type TestClock } from '../helpers/clock.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { testLogger } from '../helpers/test-logger.js';

const KEY_LIMIT = 3;
const IP_LIMIT = 5;
const LIMITS = { keyFailuresPerMinute: KEY_LIMIT, ipFailuresPerMinute: IP_LIMIT };
const logger = testLogger();

/** The in-memory counters, and the database counters on every dialect that runs here. */
const STORES = [
  { store: 'memory', dialect: null, skip: null },
  ...DIALECTS.map((d) => ({ store: `the ${d.dialect} table`, dialect: d.dialect, skip: d.skip })),
];

function granted(result: Awaited<ReturnType<Throttle['reserve']>>): Reservation {
  if (!result.granted) throw new Error(`refused for ${result.retryAfterSeconds}s`);
  return result;
}

describe.each(STORES)('throttle counting in $store', (storeCase) => {
  describe.skipIf(storeCase.skip !== null)(storeCase.skip === null ? storeCase.store : `${storeCase.store} (${storeCase.skip})`, () => {
    let database: TestDatabase | undefined;
    let counters: CounterStore | undefined;
    let clock: TestClock;
    let throttle: Throttle;
    let make: (options?: Partial<ThrottleOptions>) => Throttle;

    beforeAll(async () => {
      if (storeCase.dialect !== null) {
        database = await openTestDatabase(storeCase.dialect);
        counters = databaseCounters(database.handle.db);
      }
    });
    afterAll(async () => database?.close());

    beforeEach(async () => {
      await database?.handle.db.deleteFrom('throttle_counters').execute();
      clock = createTestClock();
      make = (options = {}) => createThrottle({ limits: LIMITS, clock, logger, ...(counters ? { counters } : {}), ...options });
      throttle = make();
    });

    async function fail(ip: string, keyId: string, times: number) {
      for (let i = 0; i < times; i++) await granted(await throttle.reserve(ip, keyId)).fail();
    }

    it('lets a caller through until it reaches the failure limit for a key', async () => {
      expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBeNull();
      await fail('10.0.0.1', 'key_a', KEY_LIMIT - 1);
      expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBeNull();
      expect((await throttle.reserve('10.0.0.1', 'key_a')).granted).toBe(true);
    });

    it('blocks the (ip, key) pair for at least a second and at most the window after N failures', async () => {
      await fail('10.0.0.1', 'key_a', KEY_LIMIT);
      expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBe(60);
      expect(await throttle.reserve('10.0.0.1', 'key_a')).toEqual({ granted: false, retryAfterSeconds: 60 });
      clock.advance(59_500);
      expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBe(1);
    });

    it('lets the pair through again once the window has passed', async () => {
      await fail('10.0.0.1', 'key_a', KEY_LIMIT);
      clock.advance(60_000);
      expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBeNull();
      await fail('10.0.0.1', 'key_a', KEY_LIMIT - 1);
      expect((await throttle.reserve('10.0.0.1', 'key_a')).granted).toBe(true);
    });

    it('does not block the same key from another ip, so an attacker cannot lock the owner out', async () => {
      await fail('10.0.0.1', 'key_a', KEY_LIMIT);
      expect((await throttle.reserve('10.0.0.1', 'key_a')).granted).toBe(false);
      expect(throttle.blockedFor('10.0.0.2', 'key_a')).toBeNull();
      expect((await throttle.reserve('10.0.0.2', 'key_a')).granted).toBe(true);
    });

    it('does not block another key from the same ip below the per-ip limit', async () => {
      await fail('10.0.0.1', 'key_a', KEY_LIMIT);
      expect(throttle.blockedFor('10.0.0.1', 'key_b')).toBeNull();
      expect((await throttle.reserve('10.0.0.1', 'key_b')).granted).toBe(true);
    });

    it('blocks every key from an ip that reached the per-ip limit, and no other ip', async () => {
      for (let i = 0; i < IP_LIMIT; i++) expect(await throttle.recordFailure('10.0.0.1', `key_${i}`)).toBeNull();
      for (const keyId of ['key_0', 'key_new', 'key_other']) expect(throttle.blockedFor('10.0.0.1', keyId), keyId).toBe(60);
      expect(await throttle.recordFailure('10.0.0.1', 'key_new')).toBe(60);
      expect(throttle.blockedFor('10.0.0.2', 'key_new')).toBeNull();
    });

    it('grants at most the limit of attempts that arrive together, however many arrive', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => throttle.reserve('10.0.0.1', 'key_a')));
      const reservations = results.filter((r): r is Reservation => r.granted);
      expect(reservations).toHaveLength(KEY_LIMIT);
      // Refused because the others are still being checked, not for failing: a second's wait.
      expect(new Set(results.filter((r) => !r.granted).map((r) => !r.granted && r.retryAfterSeconds))).toEqual(new Set([1]));
      expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBeNull();

      await Promise.all(reservations.map((r) => r.fail()));
      expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBe(60);
    });

    it('does not count attempts that were given back, nor the refused ones, so legitimate clients are never held back', async () => {
      for (let i = 0; i < 3 * KEY_LIMIT; i++) await granted(await throttle.reserve('10.0.0.1', 'key_a')).release();
      const burst = await Promise.all(Array.from({ length: 10 }, () => throttle.reserve('10.0.0.1', 'key_a')));
      await Promise.all(burst.map((r) => (r.granted ? r.release() : undefined)));
      // The full limit of failures is left.
      await fail('10.0.0.1', 'key_a', KEY_LIMIT - 1);
      expect((await throttle.reserve('10.0.0.1', 'key_a')).granted).toBe(true);
    });

    it('settles a reservation once, whatever is called after', async () => {
      const reservation = granted(await throttle.reserve('10.0.0.1', 'key_a'));
      await reservation.release();
      await reservation.release();
      await reservation.fail();
      await fail('10.0.0.1', 'key_a', KEY_LIMIT - 1);
      expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBeNull();
    });

    it.skipIf(storeCase.dialect === null)('learns of a block another instance counted at its next attempt, and then answers from memory', async () => {
      const other = make();
      for (let i = 0; i < KEY_LIMIT; i++) await granted(await other.reserve('10.0.0.1', 'key_a')).fail();
      expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBeNull();
      expect(await throttle.reserve('10.0.0.1', 'key_a')).toEqual({ granted: false, retryAfterSeconds: 60 });
      expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBe(60);
    });

    it('counts every address of one IPv6 /64 together, and another /64 apart', async () => {
      await fail('2001:db8:5:6::1', 'key_a', 1);
      await fail('2001:db8:5:6::2', 'key_a', 1);
      await fail('2001:db8:5:6:abcd:ef01:2345:6789', 'key_a', 1);
      expect(throttle.blockedFor('2001:db8:5:6::99', 'key_a')).toBe(60);
      expect(throttle.blockedFor('2001:db8:5:7::1', 'key_a')).toBeNull();
      expect((await throttle.reserve('2001:db8:5:7::1', 'key_a')).granted).toBe(true);
    });

    it('counts an IPv4-mapped address as its IPv4 address', async () => {
      await fail('::ffff:198.51.100.4', 'key_a', KEY_LIMIT);
      expect(throttle.blockedFor('198.51.100.4', 'key_a')).toBe(60);
      expect(throttle.blockedFor('198.51.100.5', 'key_a')).toBeNull();
    });

    it('treats an overlong key id like its first 64 characters, so junk ids cannot grow the counters without bound', async () => {
      const long = 'k'.repeat(64);
      await fail('10.0.0.1', `${long}-one`, KEY_LIMIT);
      expect(throttle.blockedFor('10.0.0.1', `${long}-two`)).not.toBeNull();
    });

    it('counts malformed credentials in this process only, and still blocks on them', async () => {
      for (let i = 0; i < IP_LIMIT; i++) expect(await throttle.recordMalformed('10.0.0.1', `junk_${i}`)).toBeNull();
      expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBe(60);
      expect(await throttle.recordMalformed('10.0.0.1', 'junk')).toBe(60);
      if (database) expect(await database.handle.db.selectFrom('throttle_counters').selectAll().execute()).toEqual([]);
    });

    it.skipIf(storeCase.dialect === null)('deletes the rows of ended windows when swept and keeps the open ones', async () => {
      const db = database!.handle.db;
      await fail('10.0.0.1', 'key_a', 1);
      clock.advance(30_000);
      await fail('10.0.0.2', 'key_a', 1);
      const keys = async () => (await db.selectFrom('throttle_counters').select('key').orderBy('key').execute()).map((r) => r.key);
      expect(await keys()).toEqual(['ip:10.0.0.1', 'ip:10.0.0.2', 'key:10.0.0.1|key_a', 'key:10.0.0.2|key_a']);
      clock.advance(30_000);
      await throttle.sweep();
      expect(await keys()).toEqual(['ip:10.0.0.2', 'key:10.0.0.2|key_a']);
      clock.advance(30_000);
      await throttle.sweep();
      expect(await keys()).toEqual([]);
    });

    it.skipIf(storeCase.dialect === null)('keeps one row per subject, its count following the window on the clock', async () => {
      const db = database!.handle.db;
      await fail('10.0.0.1', 'key_a', 2);
      const rows = () => db.selectFrom('throttle_counters').select(['key', 'count', 'failures', 'ends_at']).orderBy('key').execute();
      const endsAt = clock.now() + 60_000;
      expect(await rows()).toEqual([
        { key: 'ip:10.0.0.1', count: 2, failures: 2, ends_at: endsAt },
        { key: 'key:10.0.0.1|key_a', count: 2, failures: 2, ends_at: endsAt },
      ]);
      clock.advance(60_000);
      await granted(await throttle.reserve('10.0.0.1', 'key_a')).release();
      expect(await rows()).toEqual([
        { key: 'ip:10.0.0.1', count: 0, failures: 0, ends_at: endsAt + 60_000 },
        { key: 'key:10.0.0.1|key_a', count: 0, failures: 0, ends_at: endsAt + 60_000 },
      ]);
    });

    it.skipIf(storeCase.dialect === null)('refuses to reserve when the database is gone, and settles without throwing', async () => {
      const gone = await openTestDatabase(storeCase.dialect!);
      const lost = createThrottle({ limits: LIMITS, clock, logger, counters: databaseCounters(gone.handle.db) });
      const reservation = granted(await lost.reserve('10.0.0.1', 'key_a'));
      await gone.close();
      await expect(lost.reserve('10.0.0.1', 'key_a')).rejects.toThrow();
      await expect(reservation.fail()).resolves.toBeUndefined();
    });
  });
});

describe('throttle counting in memory, with a bound on the windows it keeps', () => {
  const MAX = 4;
  let clock: TestClock;
  let throttle: Throttle;
  beforeEach(() => {
    clock = createTestClock();
    throttle = createThrottle({ limits: LIMITS, clock, logger, maxTracked: MAX });
  });

  async function fail(ip: string, keyId: string, times: number) {
    for (let i = 0; i < times; i++) await granted(await throttle.reserve(ip, keyId)).fail();
  }

  it('forgets the block learnt longest ago first when full, and still blocks the newer ones', async () => {
    await fail('10.0.0.1', 'key_a', KEY_LIMIT);
    clock.advance(1_000);
    for (let i = 2; i <= MAX + 1; i++) await fail(`10.0.0.${i}`, 'key_a', KEY_LIMIT);
    expect(throttle.blockedFor('10.0.0.1', 'key_a')).toBeNull();
    for (let i = 2; i <= MAX + 1; i++) expect(throttle.blockedFor(`10.0.0.${i}`, 'key_a'), `10.0.0.${i}`).toBe(60);
  });

  it('makes room from windows that have ended and keeps the open ones', async () => {
    for (let i = 1; i < MAX; i++) await fail(`10.0.0.${i}`, 'key_a', 1);
    clock.advance(30_000);
    await fail('10.0.0.9', 'key_a', KEY_LIMIT);
    clock.advance(30_000);
    // The first windows have ended; the new addresses take their places.
    for (let i = 10; i < 10 + MAX - 1; i++) await fail(`10.0.0.${i}`, 'key_b', 1);
    expect(throttle.blockedFor('10.0.0.9', 'key_a')).toBe(30);
    expect(await throttle.reserve('10.0.0.9', 'key_a')).toEqual({ granted: false, retryAfterSeconds: 30 });
  });

  it('remembers only the newest windows under a flood of new addresses', async () => {
    const ip = (i: number) => `10.1.${i >> 8}.${i & 255}`;
    for (let i = 0; i < 1_000; i++) await fail(ip(i), 'key_a', KEY_LIMIT);
    for (let i = 1_000 - MAX; i < 1_000; i++) expect(throttle.blockedFor(ip(i), 'key_a'), ip(i)).toBe(60);
    for (const i of [0, 1, 500, 1_000 - MAX - 1]) expect(throttle.blockedFor(ip(i), 'key_a'), ip(i)).toBeNull();
  });
});
