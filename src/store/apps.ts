import { sql } from 'kysely';
import type { Db } from './database.js';
import { parsedList, storedList } from './json-lists.js';
import type { AppsTable } from './schema.js';

/** An app with its granted scopes and its IP allow-list (null: any address) parsed. */
export type AppRecord = Omit<AppsTable, 'scopes' | 'allowed_ips'> & { scopes: string[]; allowed_ips: string[] | null };

export function toAppRecord(row: AppsTable): AppRecord {
  return { ...row, scopes: JSON.parse(row.scopes) as string[], allowed_ips: parsedList(row.allowed_ips) };
}

export async function insertApp(db: Db, app: AppRecord): Promise<void> {
  await db
    .insertInto('apps')
    .values({ ...app, scopes: JSON.stringify(app.scopes), allowed_ips: storedList(app.allowed_ips) })
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

/** A window of a newest-first list: rows with ids below `before`, at most `limit`. */
export interface ListWindow {
  readonly limit: number;
  readonly before: string | null;
}

/** `%`, `_` and the escape character itself match literally in a LIKE pattern built from `text`. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Live apps of the org, newest first; `nameContains`: only those whose name holds it, in any case. */
export async function listApps(db: Db, orgId: string, window: ListWindow, filter: { nameContains?: string } = {}): Promise<AppRecord[]> {
  let query = db.selectFrom('apps').selectAll().where('org_id', '=', orgId).where('deleted_at', 'is', null);
  if (window.before !== null) query = query.where('id', '<', window.before);
  if (filter.nameContains !== undefined) {
    const pattern = likePattern(filter.nameContains);
    query = query.where((eb) => eb(eb.fn('lower', ['name']), 'like', sql<string>`${pattern} escape '\\'`));
  }
  const rows = await query.orderBy('id', 'desc').limit(window.limit).execute();
  return rows.map(toAppRecord);
}

export type AppChanges = Partial<Pick<AppRecord, 'name' | 'description' | 'scopes' | 'audience' | 'token_ttl_seconds' | 'allowed_ips'>> & {
  updated_at: number;
};

/** Updates a live app of the org; undefined when there is none. */
export async function updateApp(db: Db, orgId: string, appId: string, changes: AppChanges): Promise<AppRecord | undefined> {
  const { scopes, allowed_ips, ...rest } = changes;
  const result = await db
    .updateTable('apps')
    .set({
      ...rest,
      ...(scopes === undefined ? {} : { scopes: JSON.stringify(scopes) }),
      ...(allowed_ips === undefined ? {} : { allowed_ips: storedList(allowed_ips) }),
    })
    .where('org_id', '=', orgId)
    .where('id', '=', appId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return undefined;
  return getApp(db, orgId, appId);
}

/** Marks a live app of the org deleted (a tombstone, so refused exchanges can say why); false when there is none. */
export async function softDeleteApp(db: Db, orgId: string, appId: string, at: number): Promise<boolean> {
  const result = await db
    .updateTable('apps')
    .set({ deleted_at: at, updated_at: at })
    .where('org_id', '=', orgId)
    .where('id', '=', appId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The id and granted scopes of every live app of the org. */
export async function listLiveAppScopes(db: Db, orgId: string): Promise<{ id: string; scopes: string[] }[]> {
  const rows = await db.selectFrom('apps').select(['id', 'scopes']).where('org_id', '=', orgId).where('deleted_at', 'is', null).execute();
  return rows.map((row) => ({ id: row.id, scopes: JSON.parse(row.scopes) as string[] }));
}

export interface AppAudience {
  readonly id: string;
  readonly org_id: string;
  readonly audience: string;
}

/** Live apps with an audience of their own that is not in `allowed`: up to `limit` of them, oldest first, and how many there are. */
export async function appsWithAudienceOutside(
  db: Db,
  allowed: readonly string[],
  limit: number,
): Promise<{ apps: AppAudience[]; count: number }> {
  let query = db.selectFrom('apps').where('deleted_at', 'is', null).where('audience', 'is not', null);
  if (allowed.length > 0) query = query.where('audience', 'not in', [...allowed]);
  const [rows, total] = await Promise.all([
    query.select(['id', 'org_id', 'audience']).orderBy('id').limit(limit).execute(),
    query.select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { apps: rows.map((r) => ({ id: r.id, org_id: r.org_id, audience: r.audience! })), count: Number(total.count) };
}
