// Webhooks: an org's endpoints, each with the event types it wants and its sealed signing
// secret. Every function is scoped by the org.
import { hasRowLocks, type Db } from './database.js';
import type { Selectable } from 'kysely';
import type { WebhooksTable } from './schema.js';

/** A webhook with its event types parsed; `description` always present. */
export type WebhookRecord = Omit<WebhooksTable, 'events' | 'description'> & { events: string[]; description: string };

function toRecord(row: Selectable<WebhooksTable>): WebhookRecord {
  return { ...row, events: JSON.parse(row.events) as string[] };
}

export async function insertWebhook(db: Db, webhook: WebhookRecord): Promise<void> {
  await db
    .insertInto('webhooks')
    .values({ ...webhook, events: JSON.stringify(webhook.events) })
    .execute();
}

export async function getWebhook(db: Db, orgId: string, webhookId: string): Promise<WebhookRecord | undefined> {
  const row = await db.selectFrom('webhooks').selectAll().where('org_id', '=', orgId).where('id', '=', webhookId).executeTakeFirst();
  return row && toRecord(row);
}

/** The org's webhooks, newest first: ids below `before`, at most `limit`. */
export async function listWebhooks(db: Db, orgId: string, window: { limit: number; before: string | null }): Promise<WebhookRecord[]> {
  let query = db.selectFrom('webhooks').selectAll().where('org_id', '=', orgId);
  if (window.before !== null) query = query.where('id', '<', window.before);
  const rows = await query.orderBy('id', 'desc').limit(window.limit).execute();
  return rows.map(toRecord);
}

export async function countWebhooks(db: Db, orgId: string): Promise<number> {
  const row = await db.selectFrom('webhooks').select((eb) => eb.fn.countAll<number | string>().as('n')).where('org_id', '=', orgId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export type WebhookChanges = Partial<Pick<WebhookRecord, 'url' | 'events' | 'description' | 'disabled_at' | 'secret_encrypted'>> & { updated_at: number };

/** Undefined when the org has no such webhook. */
export async function updateWebhook(db: Db, orgId: string, webhookId: string, changes: WebhookChanges): Promise<WebhookRecord | undefined> {
  const { events, ...rest } = changes;
  const result = await db
    .updateTable('webhooks')
    .set({ ...rest, ...(events === undefined ? {} : { events: JSON.stringify(events) }) })
    .where('org_id', '=', orgId)
    .where('id', '=', webhookId)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return undefined;
  return getWebhook(db, orgId, webhookId);
}

/** Deletes the webhook and its deliveries; false when the org has no such webhook. Run it in a transaction. */
export async function deleteWebhook(db: Db, orgId: string, webhookId: string): Promise<boolean> {
  await db.deleteFrom('webhook_deliveries').where('org_id', '=', orgId).where('webhook_id', '=', webhookId).execute();
  const result = await db.deleteFrom('webhooks').where('org_id', '=', orgId).where('id', '=', webhookId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Every webhook and delivery of an org, as the org is deleted (in its transaction). */
export async function deleteOrgWebhooks(db: Db, orgId: string): Promise<void> {
  await db.deleteFrom('webhook_deliveries').where('org_id', '=', orgId).execute();
  await db.deleteFrom('webhooks').where('org_id', '=', orgId).execute();
}

/**
 * The ids of the org's enabled webhooks and the event types each wants. On PostgreSQL the
 * rows are key-share locked, so a webhook deleted meanwhile cannot make the caller's
 * insert of a delivery (and so the change it tells of) fail on the foreign key.
 */
export async function enabledWebhooks(db: Db, orgId: string): Promise<{ id: string; events: string[] }[]> {
  let query = db.selectFrom('webhooks').select(['id', 'events']).where('org_id', '=', orgId).where('disabled_at', 'is', null);
  if (hasRowLocks(db)) query = query.forKeyShare();
  const rows = await query.execute();
  return rows.map((row) => ({ id: row.id, events: JSON.parse(row.events) as string[] }));
}
