import type { Db } from './database.js';
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
