import { hasRowLocks, type Db } from './database.js';
import type { OrgsTable } from './schema.js';
import { deleteOrgWebhooks } from './webhooks.js';

/** An org with its allowance parsed: a list of catalogue scopes, or null for every non-admin scope. */
export type OrgRow = Omit<OrgsTable, 'allowed_scopes' | 'require_mfa'> & { allowed_scopes: string[] | null; require_mfa: number };

const ORG_COLUMNS = ['id', 'name', 'is_root', 'created_at', 'created_by', 'allowed_scopes', 'disabled_at', 'require_mfa', 'auto_revoke_unused_days'] as const;

export function toOrgRow(row: Omit<OrgsTable, 'allowed_scopes' | 'require_mfa'> & { allowed_scopes: string | null; require_mfa: number }): OrgRow {
  return { ...row, allowed_scopes: row.allowed_scopes === null ? null : (JSON.parse(row.allowed_scopes) as string[]) };
}

const storedAllowance = (scopes: readonly string[] | null) => (scopes === null ? null : JSON.stringify(scopes));

export async function insertOrg(db: Db, row: OrgRow): Promise<void> {
  await db
    .insertInto('orgs')
    .values({ ...row, allowed_scopes: storedAllowance(row.allowed_scopes) })
    .execute();
}

export async function getOrg(db: Db, id: string): Promise<OrgRow | undefined> {
  const row = await db.selectFrom('orgs').select(ORG_COLUMNS).where('id', '=', id).executeTakeFirst();
  return row && toOrgRow(row);
}

export async function anyOrgExists(db: Db): Promise<boolean> {
  return (await db.selectFrom('orgs').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Every org, newest first (the root org's admins list them). */
export async function listOrgs(db: Db, window: { limit: number; before: string | null }): Promise<OrgRow[]> {
  let query = db.selectFrom('orgs').select(ORG_COLUMNS);
  if (window.before !== null) query = query.where('id', '<', window.before);
  const rows = await query.orderBy('id', 'desc').limit(window.limit).execute();
  return rows.map(toOrgRow);
}

/** The org created at bootstrap (at most one, by a partial unique index). */
export async function getRootOrg(db: Db): Promise<OrgRow | undefined> {
  const row = await db.selectFrom('orgs').select(ORG_COLUMNS).where('is_root', '=', 1).executeTakeFirst();
  return row && toOrgRow(row);
}

export type OrgChanges = Partial<Pick<OrgRow, 'name' | 'allowed_scopes' | 'disabled_at' | 'require_mfa' | 'auto_revoke_unused_days'>>;

/** Changes an org; undefined when there is none. The root org can never be disabled. */
export async function updateOrg(db: Db, id: string, changes: OrgChanges): Promise<OrgRow | undefined> {
  const { allowed_scopes, ...rest } = changes;
  let query = db
    .updateTable('orgs')
    .set({ ...rest, ...(allowed_scopes === undefined ? {} : { allowed_scopes: storedAllowance(allowed_scopes) }) })
    .where('id', '=', id);
  if (changes.disabled_at !== undefined && changes.disabled_at !== null) query = query.where('is_root', '=', 0);
  const result = await query.executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return undefined;
  return getOrg(db, id);
}

/**
 * Deletes a non-root org with its keys, apps (tombstones included), people and webhooks; its audit events stay,
 * they have no foreign key. False when there is no such org (or it is the root org). Run it
 * in a transaction.
 */
export async function deleteOrgWithContents(db: Db, id: string): Promise<boolean> {
  // PostgreSQL: an app or key inserted into this org by a transaction running now would
  // otherwise commit between the deletes below and make the last one fail on its foreign
  // key; locking the row makes such inserts wait, and then fail on theirs.
  let target = db.selectFrom('orgs').select('id').where('id', '=', id).where('is_root', '=', 0);
  if (hasRowLocks(db)) target = target.forUpdate();
  if ((await target.executeTakeFirst()) === undefined) return false;
  await db.deleteFrom('api_keys').where('org_id', '=', id).execute();
  // A person's sessions and recovery codes go with them (on delete cascade).
  await db.deleteFrom('user_links').where('org_id', '=', id).execute();
  await db.deleteFrom('users').where('org_id', '=', id).execute();
  await db.deleteFrom('apps').where('org_id', '=', id).execute();
  await deleteOrgWebhooks(db, id);
  await db.deleteFrom('orgs').where('id', '=', id).execute();
  return true;
}

/**
 * Inside a transaction: when `orgId` is the root org, locks its row until the transaction
 * ends and returns true. Changes that could take away the root org's last admin take it
 * first, so two of them run one after the other. PostgreSQL: `for no key update`, which
 * still lets inserts of apps and keys check their foreign key to the org (`for update`
 * would block those, and deadlock with a roll that holds its key's row). SQLite: a write
 * that changes nothing, which takes the database's single write lock now, before the
 * transaction reads, so it reads what the previous writer committed.
 */
export async function lockRootOrg(db: Db, orgId: string): Promise<boolean> {
  if (hasRowLocks(db)) {
    const row = await db.selectFrom('orgs').select('id').where('id', '=', orgId).where('is_root', '=', 1).forNoKeyUpdate().executeTakeFirst();
    return row !== undefined;
  }
  const result = await db.updateTable('orgs').set({ is_root: 1 }).where('id', '=', orgId).where('is_root', '=', 1).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Inside a transaction: locks the org's row until the transaction ends (PostgreSQL `for no
 * key update`; SQLite a write that changes nothing, which takes its single write lock), so
 * two changes to its people that could each remove its last owner run one after the other.
 */
export async function lockOrg(db: Db, orgId: string): Promise<boolean> {
  if (hasRowLocks(db)) {
    return (await db.selectFrom('orgs').select('id').where('id', '=', orgId).forNoKeyUpdate().executeTakeFirst()) !== undefined;
  }
  const result = await db.updateTable('orgs').set({ name: (eb) => eb.ref('name') }).where('id', '=', orgId).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
