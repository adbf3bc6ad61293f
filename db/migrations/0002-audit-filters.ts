import type { Kysely } from 'kysely';

// GET /v1/audit filters by target_id (one key's history) and by action (e.g. every refused
// exchange), newest first; without these an org with a long log is scanned in full.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('audit_events_org_target').on('audit_events').columns(['org_id', 'target_id', 'id']).execute();
  await db.schema.createIndex('audit_events_org_action').on('audit_events').columns(['org_id', 'action', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('audit_events_org_action').execute();
  await db.schema.dropIndex('audit_events_org_target').execute();
}
