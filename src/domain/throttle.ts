// Failed-exchange throttling, per client IP and per (client IP, key id): failures from one
// address never lock the key's owner out from another.
import { RateLimiterMemory } from 'rate-limiter-flexible';

export interface Throttle {
  /** Seconds until the caller may try again, or null when not throttled. */
  blockedFor(ip: string, keyId: string): Promise<number | null>;
  recordFailure(ip: string, keyId: string): Promise<void>;
  /** True once per minute per (ip, key id), so a throttled flood writes one audit event, not thousands. */
  claimAuditSlot(ip: string, keyId: string): Promise<boolean>;
}

export interface ThrottleLimits {
  readonly keyFailuresPerMinute: number;
  readonly ipFailuresPerMinute: number;
}

export function createThrottle(limits: ThrottleLimits): Throttle {
  const perIp = new RateLimiterMemory({ keyPrefix: 'ip', points: limits.ipFailuresPerMinute, duration: 60 });
  const perKey = new RateLimiterMemory({ keyPrefix: 'key', points: limits.keyFailuresPerMinute, duration: 60 });
  const audit = new RateLimiterMemory({ keyPrefix: 'audit', points: 1, duration: 60 });
  const pair = (ip: string, keyId: string) => `${ip}|${keyId.slice(0, 64)}`;

  return {
    async blockedFor(ip, keyId) {
      const [byIp, byKey] = await Promise.all([perIp.get(ip), perKey.get(pair(ip, keyId))]);
      let waitMs = 0;
      if (byIp && byIp.consumedPoints >= limits.ipFailuresPerMinute) waitMs = Math.max(waitMs, byIp.msBeforeNext);
      if (byKey && byKey.consumedPoints >= limits.keyFailuresPerMinute) waitMs = Math.max(waitMs, byKey.msBeforeNext);
      return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : null;
    },
    async recordFailure(ip, keyId) {
      // consume() rejects once the points are spent; the count still grows, which is all we need.
      await Promise.allSettled([perIp.consume(ip), perKey.consume(pair(ip, keyId))]);
    },
    async claimAuditSlot(ip, keyId) {
      try {
        await audit.consume(pair(ip, keyId));
        return true;
      } catch {
        return false;
      }
    },
  };
}
