// Reminders about keys' expiry, sent by the key-policy sweeper (key-policies.ts) as audit
// events with actor `system` (webhooks deliver them from there): `key.expiring` once when
// an unrevoked key's expiry comes within 7 days, and `key.expired` once when it passes.
// Each event is written in the transaction of the conditional update that marks it sent,
// so two sweepers cannot both send it.
import type { Db } from '../store/database.js';
import { markExpiredNotified, markExpiringNotified, type ExpiringKey } from '../store/key-policies.js';
import { isoTime, type Clock } from './clock.js';
import { fileOnce } from './system-events.js';

export interface KeyRemindersDeps {
  readonly db: Db;
  readonly clock: Clock;
}

/** `key.expiring` (reason `expiry`) for a key expiring within `windowMs`; false when it was sent already. */
export async function remindExpiring(deps: KeyRemindersDeps, key: ExpiringKey, windowMs: number): Promise<boolean> {
  const mark = (trx: Db) => markExpiringNotified(trx, { keyId: key.id, at: deps.clock.now(), expiresAt: key.expires_at, windowMs });
  return fileOnce(deps, key, mark, { action: 'key.expiring', details: { expires_at: isoTime(key.expires_at), reason: 'expiry' } });
}

/** `key.expired` for an unrevoked key whose expiry has passed; false when it was sent already. */
export async function reportExpired(deps: KeyRemindersDeps, key: ExpiringKey): Promise<boolean> {
  const mark = (trx: Db) => markExpiredNotified(trx, { keyId: key.id, at: deps.clock.now() });
  return fileOnce(deps, key, mark, { action: 'key.expired', details: { expires_at: isoTime(key.expires_at) } });
}
