// The last way in stays: the root org keeps at least one active holder of admin.orgs:full,
// or nobody could manage organizations (or the root org) again without the operator's
// shell. Through the API, a change that would remove the last one — revoking or deleting
// its key, demoting or deleting its app — is a 409 `last_root_admin`; the operator CLI may
// do it with --force. Rolling a key is not such a change: the old key expires, but the new
// one, of the same app, holds the same power.
//
// A way in is an active key (neither revoked nor expired) of a live root-org app whose
// effective scopes hold admin.orgs:full, or an active owner of the root org (owners there hold
// admin.orgs:full). Removing the last owner is refused on its own (last-owner.ts).
import { LastRootAdminError } from '../errors.js';
import { countActiveKeys } from '../store/api-keys.js';
import { listLiveAppScopes } from '../store/apps.js';
import type { Db } from '../store/database.js';
import { lockRootOrg } from '../store/orgs.js';
import { countActiveOwners } from '../store/users.js';
import { isOperator, type Actor } from './actor.js';
import type { Clock } from './clock.js';
import type { Catalog } from './scopes.js';

export const ROOT_ADMIN_SCOPE = 'admin.orgs:full';

/** What a change takes away; each named way in stops counting. */
export interface WaysInRemoved {
  /** Keys the change revokes or deletes. */
  readonly keyIds?: readonly string[];
  /** An app the change deletes or demotes: none of its keys holds the power afterwards. */
  readonly appId?: string;
}

interface RootAdminDeps {
  readonly catalog: Catalog;
  readonly clock: Clock;
}

export function holdsRootAdmin(catalog: Catalog, scopes: readonly string[]): boolean {
  return catalog.expand(scopes).includes(ROOT_ADMIN_SCOPE);
}

/** Active ways into the root org `rootOrgId` holding admin.orgs:full, not counting those `removed` names. */
export async function countRootAdminsBesides(db: Db, deps: RootAdminDeps, rootOrgId: string, removed: WaysInRemoved = {}): Promise<number> {
  const apps = (await listLiveAppScopes(db, rootOrgId)).filter((app) => app.id !== removed.appId && holdsRootAdmin(deps.catalog, app.scopes));
  const keys = await countActiveKeys(db, rootOrgId, { appIds: apps.map((app) => app.id), exceptKeyIds: removed.keyIds ?? [], now: deps.clock.now() });
  return keys + (await countActiveOwners(db, rootOrgId));
}

/**
 * Call first inside the transaction that makes the change. Refuses (LastRootAdminError) a
 * change in the root org that takes away its last way in; passes anything in another org,
 * and a change that takes nothing away (when no way in is left already, say every root key
 * expired, revoking some other key is no loss). The root org's row stays locked until the
 * transaction ends, so two admins revoking the last two root keys at once run one after
 * the other, and the second is refused.
 *
 * `force`: the operator CLI may do it anyway; the result says whether it did, for the audit
 * event. An API caller's `force` counts for nothing.
 */
export async function guardLastRootAdmin(
  trx: Db,
  deps: RootAdminDeps,
  actor: Actor,
  removed: WaysInRemoved,
  options: { force?: boolean } = {},
): Promise<{ forced: boolean }> {
  if (!(await lockRootOrg(trx, actor.orgId))) return { forced: false };
  if ((await countRootAdminsBesides(trx, deps, actor.orgId, removed)) > 0) return { forced: false };
  if ((await countRootAdminsBesides(trx, deps, actor.orgId)) === 0) return { forced: false };
  if (options.force === true && isOperator(actor)) return { forced: true };
  throw new LastRootAdminError(
    `this is the last active way into the root organization holding ${ROOT_ADMIN_SCOPE}; issue another key for an app holding it (or invite an owner) first`,
  );
}

/** Audit details of a change made with --force over the last root admin. */
export function forcedDetails(guard: { forced: boolean }): { forced?: 'last_root_admin' } {
  return guard.forced ? { forced: 'last_root_admin' } : {};
}
