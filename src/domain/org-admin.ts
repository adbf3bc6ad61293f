// The operator's hold on one organization: read it, rename it, set its allowance, disable
// or enable it, require a second factor of its people, delete it. Root org admins
// (admin.orgs:full) and the CLI, for any org; and an org's own owners (admin.users:full, the
// power over its people) read their own org and set its require_mfa, a policy about its
// people, and its auto_revoke_unused_days, the hygiene of its own keys — its name,
// allowance and state stay the operator's. Disabling
// takes effect on every instance at the next request: the exchange and the admin API's
// bearer check both read the org's state with the key row they read anyway.
import { ConflictError, NotFoundError } from '../errors.js';
import type { Db } from '../store/database.js';
import * as store from '../store/orgs.js';
import type { OrgRow } from '../store/orgs.js';
import { actorHolds, type Actor, type AdminDeps } from './actor.js';
import { checkAllowance } from './allowances.js';
import { checkName } from './apps.js';
import { recordAudit } from './audit.js';
import { checkAutoRevokeUnusedDays, requireRootAdmin, toOrgView, type OrgView } from './orgs.js';

export interface UpdateOrgInput {
  readonly orgId: string;
  readonly name?: string;
  /** Catalogue scopes, or null for every non-admin scope of the catalogue. */
  readonly allowedScopes?: readonly string[] | null;
  readonly disabled?: boolean;
  readonly requireMfa?: boolean;
  /** Days unused after which the server revokes a key; null: never. */
  readonly autoRevokeUnusedDays?: number | null;
}

/** An admin of the org itself holding the power over its people (its owners), outside the root org's admins. */
function ownOrgOwner(actor: Actor, orgId: string): boolean {
  return actor.orgId === orgId && actorHolds(actor, 'admin.users:full');
}

export function orgNotFound(orgId: string): NotFoundError {
  return new NotFoundError(`no organization ${orgId}`);
}

async function findOrg(deps: Pick<AdminDeps, 'db'>, orgId: string): Promise<OrgRow> {
  const org = await store.getOrg(deps.db, orgId);
  if (!org) throw orgNotFound(orgId);
  return org;
}

/**
 * An event about `org`, filed in its own log and, when another org acted (the root org),
 * in the actor's as well: a tenant's log shows what the operator did to it.
 */
async function auditOrgEvent(db: Db, deps: Pick<AdminDeps, 'clock'>, actor: Actor, orgId: string, entry: { action: string; details: Record<string, unknown> }) {
  const event = { actor: actor.id, ip: actor.ip, targetType: 'org', targetId: orgId, ...entry };
  await recordAudit(db, deps.clock, { ...event, orgId });
  if (actor.orgId !== orgId) await recordAudit(db, deps.clock, { ...event, orgId: actor.orgId });
}

export async function showOrg(deps: AdminDeps, actor: Actor, input: { orgId: string }): Promise<OrgView> {
  if (!ownOrgOwner(actor, input.orgId)) await requireRootAdmin(deps, actor);
  return toOrgView(deps, await findOrg(deps, input.orgId));
}

/**
 * Renames an org, sets its allowance (its apps' next tokens carry only what is in it), its
 * policies, or disables or enables it. The root org cannot be disabled (409): it is the way in.
 */
export async function updateOrg(deps: AdminDeps, actor: Actor, input: UpdateOrgInput): Promise<OrgView> {
  const onlyOwnersPolicies = input.name === undefined && input.allowedScopes === undefined && input.disabled === undefined;
  if (!(onlyOwnersPolicies && ownOrgOwner(actor, input.orgId))) await requireRootAdmin(deps, actor);
  const current = await findOrg(deps, input.orgId);
  const changes: store.OrgChanges = {};
  if (input.name !== undefined) changes.name = checkName('name', input.name);
  if (input.allowedScopes !== undefined) {
    changes.allowed_scopes = input.allowedScopes === null ? null : checkAllowance(deps.catalog, input.allowedScopes);
  }
  if (input.disabled === true && current.is_root === 1) {
    throw new ConflictError('the root organization cannot be disabled: its admins are the way in');
  }
  if (input.disabled !== undefined && input.disabled !== (current.disabled_at !== null)) {
    changes.disabled_at = input.disabled ? deps.clock.now() : null;
  }
  if (input.requireMfa !== undefined) changes.require_mfa = input.requireMfa ? 1 : 0;
  if (input.autoRevokeUnusedDays !== undefined) changes.auto_revoke_unused_days = checkAutoRevokeUnusedDays(input.autoRevokeUnusedDays);
  const diff: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of ['name', 'allowed_scopes', 'auto_revoke_unused_days'] as const) {
    const to = changes[field];
    if (to !== undefined && JSON.stringify(to) !== JSON.stringify(current[field])) diff[field] = { from: current[field], to };
  }
  if (changes.require_mfa !== undefined && changes.require_mfa !== current.require_mfa) {
    diff['require_mfa'] = { from: current.require_mfa === 1, to: changes.require_mfa === 1 };
  }
  const toggles = changes.disabled_at !== undefined;
  // Nothing to change: no write, no event.
  if (Object.keys(diff).length === 0 && !toggles) return toOrgView(deps, current);
  const updated = await deps.db.transaction().execute(async (trx) => {
    const org = await store.updateOrg(trx, current.id, changes);
    if (!org) throw orgNotFound(current.id);
    if (Object.keys(diff).length > 0) await auditOrgEvent(trx, deps, actor, org.id, { action: 'org.updated', details: { changes: diff } });
    if (toggles) {
      await auditOrgEvent(trx, deps, actor, org.id, { action: org.disabled_at === null ? 'org.enabled' : 'org.disabled', details: { name: org.name } });
    }
    return org;
  });
  return toOrgView(deps, updated);
}

/**
 * Deletes an org with its apps and keys; they stop working at once everywhere. Its audit
 * events stay (and end with `org.deleted`). Never the root org (409).
 */
export async function deleteOrg(deps: AdminDeps, actor: Actor, input: { orgId: string }): Promise<void> {
  await requireRootAdmin(deps, actor);
  const current = await findOrg(deps, input.orgId);
  if (current.is_root === 1) throw new ConflictError('the root organization cannot be deleted: its admins are the way in');
  await deps.db.transaction().execute(async (trx) => {
    if (!(await store.deleteOrgWithContents(trx, current.id))) throw orgNotFound(current.id);
    await auditOrgEvent(trx, deps, actor, current.id, { action: 'org.deleted', details: { name: current.name } });
  });
}
