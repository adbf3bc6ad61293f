// Organizations come with an `admin` app holding the built-in admin scopes and a first key.
import type { Db } from '../store/database.js';
import { insertApiKey, type ApiKeyRow } from '../store/api-keys.js';
import { insertApp, type AppRecord } from '../store/apps.js';
import { anyOrgExists, insertOrg, type OrgRow } from '../store/orgs.js';
import { recordAudit } from './audit.js';
import type { Clock } from './clock.js';
import { newId } from './credentials.js';
import type { SecretHasher } from './hashing.js';
import { prepareKey } from './keys.js';
import type { Catalog } from './scopes.js';

export const ROOT_ONLY_SCOPES: readonly string[] = ['admin.orgs:full'];

export interface OrgDeps {
  readonly db: Db;
  readonly hasher: SecretHasher;
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
  input: { name: string; root: boolean; actor: string; ip?: string | null },
): Promise<CreatedOrg> {
  const now = deps.clock.now();
  const org: OrgRow = { id: newId('org', now), name: input.name, is_root: input.root ? 1 : 0, created_at: now, created_by: input.actor };
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
  };
  const { row: key, secret } = await prepareKey(deps.hasher, now, {
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
    await recordAudit(trx, deps.clock, { ...audit, action: 'org.created', targetType: 'org', targetId: org.id, details: { name: org.name } });
    await recordAudit(trx, deps.clock, {
      ...audit,
      action: 'app.created',
      targetType: 'app',
      targetId: adminApp.id,
      details: { name: adminApp.name, scopes: adminApp.scopes },
    });
    await recordAudit(trx, deps.clock, { ...audit, action: 'key.created', targetType: 'key', targetId: key.id, details: { app_id: adminApp.id, name: key.name } });
  });
  return { org, adminApp, key, secret };
}

/**
 * First start only: the root org `default` with its admin app and key. Returns null when
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
