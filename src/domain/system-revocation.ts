// Revocations the server makes on its own, without an admin: a leaked secret reported to it
// (reason `leaked`) and a key unused for longer than its org allows (reason `unused`). Each
// is one transaction with its audit event (actor `system`), as an admin's revocation is;
// the exchange reads the key row every time, so it applies at once on every instance.
import { revokeApiKey } from '../store/api-keys.js';
import type { Db } from '../store/database.js';
import type { Clock } from './clock.js';
import { recordSystemKeyEvent } from './system-events.js';

export type SystemRevokeReason = 'leaked' | 'unused';

export interface SystemRevocation {
  readonly orgId: string;
  readonly keyId: string;
  readonly appId: string;
  readonly name: string;
  readonly reason: SystemRevokeReason;
  /** More for the audit event (say, where the secret was found); never a secret. */
  readonly details?: Record<string, unknown>;
  /** The reporter's address, when someone reported it. */
  readonly ip?: string | null;
}

export interface SystemRevocationOptions {
  /**
   * Runs first inside the transaction: the key is revoked only when it answers true (what
   * it wrote commits either way). For a check that must hold under the revocation's own
   * locks: say, that the key is still unused, and is not the root org's last way in.
   */
  readonly check?: (trx: Db) => Promise<boolean>;
}

/** True when this call revoked the key; false when it was revoked (or deleted) already, or `check` said no. */
export async function revokeKeyAsSystem(deps: { db: Db; clock: Clock }, revocation: SystemRevocation, options: SystemRevocationOptions = {}): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    if (options.check !== undefined && !(await options.check(trx))) return false;
    const at = deps.clock.now();
    const revoked = await revokeApiKey(trx, revocation.orgId, revocation.keyId, { at, by: 'system', reason: revocation.reason });
    if (!revoked) return false;
    const key = { id: revocation.keyId, org_id: revocation.orgId, app_id: revocation.appId, name: revocation.name };
    await recordSystemKeyEvent(trx, deps.clock, key, {
      action: 'key.revoked',
      ip: revocation.ip ?? null,
      details: { reason: revocation.reason, ...revocation.details },
    });
    return true;
  });
}
