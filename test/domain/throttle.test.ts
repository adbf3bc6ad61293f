import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createThrottle, type Throttle } from '../../src/domain/throttle.js';

// rate-limiter-flexible keeps its windows on Date.now() and setTimeout, not on the injected
// Clock, so these tests move time with vitest's fake timers instead of sleeping.
describe('throttle', () => {
  const KEY_LIMIT = 3;
  const IP_LIMIT = 5;
  let throttle: Throttle;

  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 23, 12, 0, 0) });
    throttle = createThrottle({ keyFailuresPerMinute: KEY_LIMIT, ipFailuresPerMinute: IP_LIMIT });
  });
  afterEach(() => {
    vi.useRealTimers();
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

    vi.advanceTimersByTime(59_500);
    expect(await throttle.blockedFor('10.0.0.1', 'key_a')).toBe(1);
  });

  it('lets the pair through again once the window has passed', async () => {
    await fail('10.0.0.1', 'key_a', KEY_LIMIT);
    vi.advanceTimersByTime(60_000);
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

    vi.advanceTimersByTime(59_999);
    expect(await throttle.claimAuditSlot('10.0.0.1', 'key_a')).toBe(false);
    vi.advanceTimersByTime(1);
    expect(await throttle.claimAuditSlot('10.0.0.1', 'key_a')).toBe(true);
    expect(await throttle.claimAuditSlot('10.0.0.1', 'key_a')).toBe(false);
  });
});
