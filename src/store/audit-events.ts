import type { Db } from './database.js';
import type { AuditEventsTable } from './schema.js';

export type AuditEventRow = AuditEventsTable;

export async function insertAuditEvent(db: Db, row: AuditEventRow): Promise<void> {
  await db.insertInto('audit_events').values(row).execute();
}

export async function listAuditEvents(db: Db, orgId: string, limit: number): Promise<AuditEventRow[]> {
  return db.selectFrom('audit_events').selectAll().where('org_id', '=', orgId).orderBy('id', 'desc').limit(limit).execute();
}
