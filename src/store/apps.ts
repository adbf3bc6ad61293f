import type { Db } from './database.js';
import type { AppsTable } from './schema.js';

/** An app with its granted scopes parsed. */
export type AppRecord = Omit<AppsTable, 'scopes'> & { scopes: string[] };

export function toAppRecord(row: AppsTable): AppRecord {
  return { ...row, scopes: JSON.parse(row.scopes) as string[] };
}

export async function insertApp(db: Db, app: AppRecord): Promise<void> {
  await db
    .insertInto('apps')
    .values({ ...app, scopes: JSON.stringify(app.scopes) })
    .execute();
}

/** A live (not deleted) app of the org. */
export async function getApp(db: Db, orgId: string, appId: string): Promise<AppRecord | undefined> {
  const row = await db
    .selectFrom('apps')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', appId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row && toAppRecord(row);
}
