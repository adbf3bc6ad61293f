// Organizations come with an `admin` app holding the built-in admin scopes and a first key.
import type { Db } from '../store/database.js';
import { insertApiKey, toApiKeyView, type ApiKeyRow } from '../store/api-keys.js';
import { insertApp, type AppRecord } from '../store/apps.js';
import { ForbiddenError, InvalidRequestError } from '../errors.js';
import { anyOrgExists, getOrg, insertOrg, listOrgs as listOrgRows, type OrgRow } from '../store/orgs.js';
import { requireActorScope, type Actor, type AdminDeps } from './actor.js';
import { actorNames } from './actor-names.js';
import { checkName, toAppView, type AppView } from './apps.js';
import { recordAudit } from './audit.js';
import type { Clock } from './clock.js';
import { newId } from './credentials.js';
import type { SecretHasher } from './hashing.js';
import type { SecretDigest } from './secret-digest.js';
import { toKeyView, type KeyView } from './key-status.js';
import { defaultAllowance, effectiveAllowance, type Allowance } from './allowances.js';
import { prepareKey } from './keys.js';
import { pageQuery, toPage, type Page, type PageInput } from './pagination.js';
import { ROOT_ONLY_SCOPES } from './grants.js';
import type { Catalog } from './scopes.js';
import { issueLink } from './user-links.js';


export interface OrgDeps {
  readonly db: Db;
  readonly hasher: SecretHasher;
  readonly secretDigest: SecretDigest;
  readonly clock: Clock;
  readonly catalog: Catalog;
}

export interface CreatedOrg {
  readonly org: OrgRow;
  readonly adminApp: AppRecord;
  readonly key: ApiKeyRow;
  readonly secret: string;
}

export async function createOrgWithAdmin(
  deps: OrgDeps,
  input: {
    name: string;
    root: boolean;
    actor: string;
    ip?: string | null;
    creatorOrgId?: string;
    allowedScopes?: Allowance;
    autoRevokeUnusedDays?: number | null;
  },
  /** More writes in the same transaction, once the org exists. */
  also?: (trx: Db, org: OrgRow) => Promise<void>,
): Promise<CreatedOrg> {
  const now = deps.clock.now();
  const org: OrgRow = {
    id: newId('org', now),
    name: input.name,
    is_root: input.root ? 1 : 0,
    created_at: now,
    created_by: input.actor,
    allowed_scopes: input.allowedScopes === undefined || input.allowedScopes === null ? null : [...input.allowedScopes],
    disabled_at: null,
    require_mfa: 0,
    auto_revoke_unused_days: input.autoRevokeUnusedDays ?? null,
  };
  const adminApp: AppRecord = {
    id: newId('app', now),
    org_id: org.id,
    name: 'admin',
    description: 'Administers this organization',
    scopes: deps.catalog.builtins.filter((s) => input.root || !ROOT_ONLY_SCOPES.includes(s)),
    audience: null,
    token_ttl_seconds: null,
    created_at: now,
    created_by: input.actor,
    updated_at: now,
    deleted_at: null,
    allowed_ips: null,
  };
  const { row: key, secret } = await prepareKey(deps, now, {
    orgId: org.id,
    appId: adminApp.id,
    name: 'admin',
    expiresAt: null,
    actor: input.actor,
  });
  await deps.db.transaction().execute(async (trx) => {
    await insertOrg(trx, org);
    await insertApp(trx, adminApp);
    await insertApiKey(trx, key);
    const audit = { orgId: org.id, actor: input.actor, ip: input.ip ?? null };
    const orgDetails = {
      name: org.name,
      allowed_scopes: org.allowed_scopes,
      ...(org.auto_revoke_unused_days === null ? {} : { auto_revoke_unused_days: org.auto_revoke_unused_days }),
    };
    await recordAudit(trx, deps.clock, { ...audit, action: 'org.created', targetType: 'org', targetId: org.id, details: orgDetails });
    await recordAudit(trx, deps.clock, {
      ...audit,
      action: 'app.created',
      targetType: 'app',
      targetId: adminApp.id,
      details: { name: adminApp.name, scopes: adminApp.scopes },
    });
    await recordAudit(trx, deps.clock, { ...audit, action: 'key.created', targetType: 'key', targetId: key.id, details: { app_id: adminApp.id, name: key.name } });
    // The creating org's admins see it in their own log too.
    if (input.creatorOrgId !== undefined && input.creatorOrgId !== org.id) {
      await recordAudit(trx, deps.clock, {
        ...audit,
        orgId: input.creatorOrgId,
        action: 'org.created',
        targetType: 'org',
        targetId: org.id,
        details: orgDetails,
      });
    }
    if (also) await also(trx, org);
  });
  return { org, adminApp, key, secret };
}

/**
 * First start only: the root org `default` with its admin app and key. It is the
 * operator's own, so SCOPE_AUTH_ORG_DEFAULT_SCOPES (for tenants) does not narrow it. Returns null when
 * an org already exists (or another process bootstrapped at the same moment).
 */
export async function bootstrapRootOrg(deps: OrgDeps): Promise<CreatedOrg | null> {
  if (await anyOrgExists(deps.db)) return null;
  try {
    return await createOrgWithAdmin(deps, { name: 'default', root: true, actor: 'system' });
  } catch (error) {
    if (await anyOrgExists(deps.db)) return null;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// Admin use cases for orgs: only the root org's admins (admin.orgs:full) and the operator
// CLI see or create organizations.

export interface OrgView {
  readonly id: string;
  readonly name: string;
  readonly is_root: boolean;
  /** As set: catalogue scopes, or null for every non-admin scope of the catalogue. */
  readonly allowed_scopes: string[] | null;
  /** What the allowance lets its apps hold, expanded. */
  readonly effective_allowed_scopes: string[];
  readonly disabled: boolean;
  readonly disabled_at: number | null;
  /** Its people must have a second factor: without one, signing in leads to enrolment first. */
  readonly require_mfa: boolean;
  /** Its active keys unused (or never used) for this many days are revoked by the server (domain/unused-keys.ts); null: never. */
  readonly auto_revoke_unused_days: number | null;
  readonly created_at: number;
  readonly created_by: string;
}

export function toOrgView(deps: Pick<OrgDeps, 'catalog'>, org: OrgRow): OrgView {
  return {
    id: org.id,
    name: org.name,
    is_root: org.is_root === 1,
    allowed_scopes: org.allowed_scopes,
    effective_allowed_scopes: effectiveAllowance(deps.catalog, org.allowed_scopes),
    disabled: org.disabled_at !== null,
    disabled_at: org.disabled_at,
    require_mfa: org.require_mfa === 1,
    auto_revoke_unused_days: org.auto_revoke_unused_days,
    created_at: org.created_at,
    created_by: org.created_by,
  };
}

export const AUTO_REVOKE_UNUSED_DAYS_MAX = 36_500;

/** An org's auto_revoke_unused_days as given: a whole number of days from 1 to 36,500 (100 years), or null (off). */
export function checkAutoRevokeUnusedDays(value: number | null): number | null {
  if (value === null) return null;
  if (!Number.isSafeInteger(value) || value < 1 || value > AUTO_REVOKE_UNUSED_DAYS_MAX) {
    throw new InvalidRequestError(`auto_revoke_unused_days: expected a whole number of days from 1 to ${AUTO_REVOKE_UNUSED_DAYS_MAX}, or null (never)`);
  }
  return value;
}

/** Only the root org's admins (admin.orgs:full) and the operator CLI see or change organizations. */
export async function requireRootAdmin(deps: Pick<AdminDeps, 'db'>, actor: Actor): Promise<void> {
  requireActorScope(actor, 'admin.orgs:full');
  if (actor.scopes === 'all') return;
  const org = await getOrg(deps.db, actor.orgId);
  if (org?.is_root !== 1) throw new ForbiddenError('only admins of the root organization can manage organizations');
}

export async function listOrgs(deps: AdminDeps, actor: Actor, input: PageInput = {}): Promise<Page<OrgView>> {
  await requireRootAdmin(deps, actor);
  const query = pageQuery(input);
  const rows = await listOrgRows(deps.db, { limit: query.limit + 1, before: query.before });
  return toPage(rows, query, (org) => toOrgView(deps, org));
}

export interface CreatedOrgView {
  readonly org: OrgView;
  readonly adminApp: AppView;
  readonly key: KeyView;
  /** Shown once. */
  readonly secret: string;
  /** The first owner's one-time invitation link (no email: whoever opens it gives theirs), when asked for; shown once. */
  readonly ownerInvitationUrl: string | null;
}

/**
 * A new org with its `admin` app (every built-in scope but admin.orgs:full) and a first key;
 * its allowance is SCOPE_AUTH_ORG_DEFAULT_SCOPES. With `inviteOwner`, also the link that
 * makes its first owner, as the first start makes the root org's: an org's people can then
 * be managed by its own owner, not only through its admin key.
 */
export async function createOrg(
  deps: AdminDeps,
  actor: Actor,
  input: { name: string; inviteOwner?: boolean; autoRevokeUnusedDays?: number | null },
): Promise<CreatedOrgView> {
  await requireRootAdmin(deps, actor);
  const name = checkName('name', input.name);
  const autoRevokeUnusedDays = checkAutoRevokeUnusedDays(input.autoRevokeUnusedDays ?? null);
  let ownerInvitationUrl: string | null = null;
  const inviteOwner = async (trx: Db, org: OrgRow) => {
    const settings = { clock: deps.clock, issuer: deps.config.issuer, ttlSeconds: deps.config.people.invitationTtlSeconds };
    ownerInvitationUrl = await issueLink(trx, settings, { purpose: 'invitation', orgId: org.id, userId: null, role: 'owner', actorId: actor.id });
    const event = { actor: actor.id, ip: actor.ip, action: 'user.invited', targetType: 'org', targetId: org.id, details: { role: 'owner', first_owner: true } };
    await recordAudit(trx, deps.clock, { ...event, orgId: org.id });
    await recordAudit(trx, deps.clock, { ...event, orgId: actor.orgId });
  };
  const created = await createOrgWithAdmin(deps, {
    name,
    root: false,
    actor: actor.id,
    ip: actor.ip,
    creatorOrgId: actor.orgId,
    allowedScopes: defaultAllowance(deps.catalog, deps.config.orgDefaultScopes),
    autoRevokeUnusedDays,
  }, input.inviteOwner === true ? inviteOwner : undefined);
  const names = await actorNames(deps.db, [actor.id]);
  return {
    org: toOrgView(deps, created.org),
    adminApp: toAppView(deps, created.adminApp, names),
    key: toKeyView(toApiKeyView(created.key), deps.clock.now(), names),
    secret: created.secret,
    ownerInvitationUrl,
  };
}
