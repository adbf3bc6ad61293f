// An org's auto_revoke_unused_days: the key-policy sweeper (key-policies.ts) revokes its
// active keys unused (or, never used, created) that many days ago, reason `unused`, actor
// `system`, and warns with a `key.expiring` event (reason `unused`) within the last 7 days
// before — once per idle stretch: a key used after its warning is warned again next time.
//
// The root org keeps its last way in: a key whose revocation would leave it without an
// active holder of admin.orgs:full (last-root-admin.ts) is kept, and a `key.unused_kept`
// event says so once per idle stretch. last_used_at is written about a second after each
// use (last-used.ts), which is nothing beside a policy counted in days.
import type { Logger } from 'pino';
import { LastRootAdminError } from '../errors.js';
import { hasAuditEventSince } from '../store/audit-events.js';
import type { Db } from '../store/database.js';
import { isStillUnused, markUnusedWarned, type IdleKey } from '../store/key-policies.js';
import type { Actor } from './actor.js';
import { isoTime, type Clock } from './clock.js';
import { guardLastRootAdmin } from './last-root-admin.js';
import type { Catalog } from './scopes.js';
import { fileOnce, recordSystemKeyEvent } from './system-events.js';
import { revokeKeyAsSystem } from './system-revocation.js';

export interface UnusedKeysDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly catalog: Catalog;
  readonly logger: Logger;
}

/** Filed (actor `system`) when the policy would revoke the root org's last way in and does not. */
export const UNUSED_KEPT_ACTION = 'key.unused_kept';

/** The server, checking the root org's last way in as an admin's revocation is checked (it may never --force). */
const systemActor = (orgId: string): Actor => ({ orgId, id: 'system', ip: null, scopes: new Set() });

export type UnusedOutcome = 'revoked' | 'kept' | 'unchanged';

/**
 * Revokes a key listed as unused, when it still is at the moment of the revocation; `kept`
 * when it is the root org's last way in and that was newly noted.
 */
export async function revokeIfUnused(deps: UnusedKeysDeps, key: IdleKey): Promise<UnusedOutcome> {
  let kept = false;
  const details = { unused_days: key.unused_days, last_used_at: isoTime(key.last_used_at) };
  const revoked = await revokeKeyAsSystem(
    deps,
    { orgId: key.org_id, keyId: key.id, appId: key.app_id, name: key.name, reason: 'unused', details },
    {
      async check(trx) {
        if (!(await isStillUnused(trx, key.id, deps.clock.now()))) return false;
        try {
          // It locks the root org's row: two revocations of its last two keys run in turn.
          await guardLastRootAdmin(trx, deps, systemActor(key.org_id), { keyIds: [key.id] });
          return true;
        } catch (error) {
          if (!(error instanceof LastRootAdminError)) throw error;
          kept = await noteKept(trx, deps, key, details);
          return false;
        }
      },
    },
  );
  return revoked ? 'revoked' : kept ? 'kept' : 'unchanged';
}

/** Once per idle stretch (under the root org's lock, so once between sweepers too). */
async function noteKept(trx: Db, deps: UnusedKeysDeps, key: IdleKey, details: Record<string, unknown>): Promise<boolean> {
  if (await hasAuditEventSince(trx, key.org_id, { action: UNUSED_KEPT_ACTION, targetId: key.id, since: key.idle_since })) return false;
  await recordSystemKeyEvent(trx, deps.clock, key, { action: UNUSED_KEPT_ACTION, details: { reason: 'last_root_admin', ...details } });
  deps.logger.warn(
    { job: 'key-policies', org_id: key.org_id, key_id: key.id, unused_days: key.unused_days },
    'an unused key was not revoked: it is the root organization’s last active way in holding admin.orgs:full',
  );
  return true;
}

/** The `key.expiring` event (reason `unused`) of a key the policy revokes soon; false when it was sent already. */
export async function warnSoonUnused(deps: UnusedKeysDeps, key: IdleKey): Promise<boolean> {
  const mark = (trx: Db) => markUnusedWarned(trx, { keyId: key.id, at: deps.clock.now(), idleSince: key.idle_since });
  return fileOnce(deps, key, mark, {
    action: 'key.expiring',
    details: { reason: 'unused', revokes_at: isoTime(key.revokes_at), last_used_at: isoTime(key.last_used_at), unused_days: key.unused_days },
  });
}
