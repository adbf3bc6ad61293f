import type { Db } from './database.js';
import type { AuditEventsTable } from './schema.js';

export type AuditEventRow = AuditEventsTable;

export async function insertAuditEvent(db: Db, row: AuditEventRow): Promise<void> {
  await db.insertInto('audit_events').values(row).execute();
}

export interface AuditEventFilter {
  readonly action?: string;
  readonly targetId?: string;
  readonly limit: number;
  /** Only events with ids below this one (the previous page's last id). */
  readonly before: string | null;
}

/** The org's events, newest first. */
export async function listAuditEvents(db: Db, orgId: string, filter: AuditEventFilter): Promise<AuditEventRow[]> {
  let query = db.selectFrom('audit_events').selectAll().where('org_id', '=', orgId);
  if (filter.action !== undefined) query = query.where('action', '=', filter.action);
  if (filter.targetId !== undefined) query = query.where('target_id', '=', filter.targetId);
  if (filter.before !== null) query = query.where('id', '<', filter.before);
  return query.orderBy('id', 'desc').limit(filter.limit).execute();
}

/** Whether the org has any event: a deleted org's log outlives it. */
export async function hasAuditEvents(db: Db, orgId: string): Promise<boolean> {
  return (await db.selectFrom('audit_events').select('id').where('org_id', '=', orgId).limit(1).executeTakeFirst()) !== undefined;
}

/** Whether the org has an event `action` about `targetId` at or after `since`: a notice that should be filed once. */
export async function hasAuditEventSince(db: Db, orgId: string, filter: { action: string; targetId: string; since: number }): Promise<boolean> {
  const row = await db
    .selectFrom('audit_events')
    .select('id')
    .where('org_id', '=', orgId)
    .where('target_id', '=', filter.targetId)
    .where('action', '=', filter.action)
    .where('at', '>=', filter.since)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
