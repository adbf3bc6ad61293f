// Reminders about keys' expiry, sent by the key-policy sweeper (key-policies.ts) as audit
// events with actor `system` (webhooks deliver them from there): `key.expiring` once when
// an unrevoked key's expiry comes within 7 days, and `key.expired` once when it passes.
// Each event is written in the transaction of the conditional update that marks it sent,
// so two sweepers cannot both send it.
import type { Db } from '../store/database.js';
import { markExpiredNotified, markExpiringNotified, type SweptKey } from '../store/key-policies.js';
import { recordAudit } from './audit.js';
import type { Clock } from './clock.js';

export interface KeyRemindersDeps {
  readonly db: Db;
  readonly clock: Clock;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `key.expiring` (reason `expiry`) for a key expiring within `windowMs`; false when it was sent already. */
export async function remindExpiring(deps: KeyRemindersDeps, key: SweptKey & { expires_at: number }, windowMs: number): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    const mark = { keyId: key.id, at: deps.clock.now(), expiresAt: key.expires_at, windowMs };
    if (!(await markExpiringNotified(trx, mark))) return false;
    await recordAudit(trx, deps.clock, {
      orgId: key.org_id,
      actor: 'system',
      action: 'key.expiring',
      targetType: 'key',
      targetId: key.id,
      details: { app_id: key.app_id, name: key.name, expires_at: iso(key.expires_at), reason: 'expiry' },
    });
    return true;
  });
}

/** `key.expired` for an unrevoked key whose expiry has passed; false when it was sent already. */
export async function reportExpired(deps: KeyRemindersDeps, key: SweptKey & { expires_at: number }): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    if (!(await markExpiredNotified(trx, { keyId: key.id, at: deps.clock.now() }))) return false;
    await recordAudit(trx, deps.clock, {
      orgId: key.org_id,
      actor: 'system',
      action: 'key.expired',
      targetType: 'key',
      targetId: key.id,
      details: { app_id: key.app_id, name: key.name, expires_at: iso(key.expires_at) },
    });
    return true;
  });
}
