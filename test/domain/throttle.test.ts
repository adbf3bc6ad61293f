import { beforeEach, describe, expect, it } from 'vitest';
import { createThrottle, type Throttle } from '../../src/domain/throttle.js';
import { createTestClock, type TestClock } from '../helpers/clock.js';

describe('throttle', () => {
  const KEY_LIMIT = 3;
  const IP_LIMIT = 5;
  const LIMITS = { keyFailuresPerMinute: KEY_LIMIT, ipFailuresPerMinute: IP_LIMIT };
  let clock: TestClock;
  let throttle: Throttle;

  beforeEach(() => {
    clock = createTestClock();
    throttle = createThrottle(LIMITS, clock);
  });

  async function fail(ip: string, keyId: string, times: number) {
    for (let i = 0; i < times; i++) await throttle.recordFailure(ip, keyId);
  }

  it('lets a caller through until it reaches the failure limit for a key', async () => {
    expect(await throttle.blockedFor('10.0.0.1', 'key_a')).toBeNull();
    await fail('10.0.0.1', 'key_a', KEY_LIMIT - 1);
    expect(await throttle.blockedFor('10.0.0.1', 'key_a')).toBeNull();
  });

  it('blocks the (ip, key) pair for at least a second and at most the window after N failures', async () => {
    await fail('10.0.0.1', 'key_a', KEY_LIMIT);
    const wait = await throttle.blockedFor('10.0.0.1', 'key_a');
    expect(wait).toBe(60);

    clock.advance(59_500);
    expect(await throttle.blockedFor('10.0.0.1', 'key_a')).toBe(1);
  });

  it('lets the pair through again once the window has passed', async () => {
    await fail('10.0.0.1', 'key_a', KEY_LIMIT);
    clock.advance(60_000);
    expect(await throttle.blockedFor('10.0.0.1', 'key_a')).toBeNull();
  });

  it("does not block the same key from another ip, so an attacker cannot lock the owner out", async () => {
    await fail('10.0.0.1', 'key_a', KEY_LIMIT + 5);
    expect(await throttle.blockedFor('10.0.0.1', 'key_a')).not.toBeNull();
    expect(await throttle.blockedFor('10.0.0.2', 'key_a')).toBeNull();
  });

  it('does not block another key from the same ip below the per-ip limit', async () => {
    await fail('10.0.0.1', 'key_a', KEY_LIMIT);
    expect(await throttle.blockedFor('10.0.0.1', 'key_b')).toBeNull();
  });

  it('blocks every key from an ip that reached the per-ip limit, and no other ip', async () => {
    for (let i = 0; i < IP_LIMIT; i++) await throttle.recordFailure('10.0.0.1', `key_${i}`);
    for (const keyId of ['key_0', 'key_new', 'key_other']) {
      expect(await throttle.blockedFor('10.0.0.1', keyId), keyId).toBeGreaterThanOrEqual(1);
    }
    expect(await throttle.blockedFor('10.0.0.2', 'key_new')).toBeNull();
  });

  it('treats an overlong key id like its first 64 characters, so junk ids cannot grow memory without bound', async () => {
    const long = 'k'.repeat(64);
    await fail('10.0.0.1', `${long}-one`, KEY_LIMIT);
    expect(await throttle.blockedFor('10.0.0.1', `${long}-two`)).not.toBeNull();
  });

  it('grants the audit slot once per window for an (ip, key) pair', async () => {
    expect(await throttle.claimAuditSlot('10.0.0.1', 'key_a')).toBe(true);
    expect(await throttle.claimAuditSlot('10.0.0.1', 'key_a')).toBe(false);
    expect(await throttle.claimAuditSlot('10.0.0.1', 'key_a')).toBe(false);
    expect(await throttle.claimAuditSlot('10.0.0.1', 'key_b')).toBe(true);
    expect(await throttle.claimAuditSlot('10.0.0.2', 'key_a')).toBe(true);

    clock.advance(59_999);
    expect(await throttle.claimAuditSlot('10.0.0.1', 'key_a')).toBe(false);
    clock.advance(1);
    expect(await throttle.claimAuditSlot('10.0.0.1', 'key_a')).toBe(true);
    expect(await throttle.claimAuditSlot('10.0.0.1', 'key_a')).toBe(false);
  });

  describe('with a bound on the windows it keeps', () => {
    const MAX = 4;
    beforeEach(() => {
      throttle = createThrottle(LIMITS, clock, { maxTracked: MAX });
    });

    it('forgets the window opened longest ago first when full, and still blocks the newer ones', async () => {
      await fail('10.0.0.1', 'key_a', KEY_LIMIT);
      clock.advance(1_000);
      for (let i = 2; i <= MAX + 1; i++) await fail(`10.0.0.${i}`, 'key_a', KEY_LIMIT);
      expect(await throttle.blockedFor('10.0.0.1', 'key_a')).toBeNull();
      for (let i = 2; i <= MAX + 1; i++) expect(await throttle.blockedFor(`10.0.0.${i}`, 'key_a'), `10.0.0.${i}`).toBe(60);
    });

    it('makes room from windows that have ended and keeps the open ones', async () => {
      for (let i = 1; i < MAX; i++) await fail(`10.0.0.${i}`, 'key_a', 1);
      clock.advance(30_000);
      await fail('10.0.0.9', 'key_a', KEY_LIMIT);
      clock.advance(30_000);
      // The first three windows have ended; the new addresses take their places.
      for (let i = 10; i < 10 + MAX - 1; i++) await fail(`10.0.0.${i}`, 'key_b', 1);
      expect(await throttle.blockedFor('10.0.0.9', 'key_a')).toBe(30);
    });

    it('remembers only the newest windows under a flood of new addresses', async () => {
      const ip = (i: number) => `10.1.${i >> 8}.${i & 255}`;
      for (let i = 0; i < 1_000; i++) await fail(ip(i), 'key_a', KEY_LIMIT);
      for (let i = 1_000 - MAX; i < 1_000; i++) expect(await throttle.blockedFor(ip(i), 'key_a'), ip(i)).toBe(60);
      for (const i of [0, 1, 500, 1_000 - MAX - 1]) expect(await throttle.blockedFor(ip(i), 'key_a'), ip(i)).toBeNull();
    });
  });
});
