import { hasRowLocks, type Db } from './database.js';
import type { OrgsTable } from './schema.js';

export type OrgRow = OrgsTable;

export async function insertOrg(db: Db, row: OrgRow): Promise<void> {
  await db.insertInto('orgs').values(row).execute();
}

export async function getOrg(db: Db, id: string): Promise<OrgRow | undefined> {
  return db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function anyOrgExists(db: Db): Promise<boolean> {
  return (await db.selectFrom('orgs').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Every org, newest first (the root org's admins list them). */
export async function listOrgs(db: Db, window: { limit: number; before: string | null }): Promise<OrgRow[]> {
  let query = db.selectFrom('orgs').selectAll();
  if (window.before !== null) query = query.where('id', '<', window.before);
  return query.orderBy('id', 'desc').limit(window.limit).execute();
}

/** The org created at bootstrap (at most one, by a partial unique index). */
export async function getRootOrg(db: Db): Promise<OrgRow | undefined> {
  return db.selectFrom('orgs').selectAll().where('is_root', '=', 1).executeTakeFirst();
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
