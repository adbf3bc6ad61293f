// The webhooks' outbox: one row per (event, webhook), inserted in the transaction of the change
// it tells of, then claimed, attempted and settled by the deliverer. The deliverer is a job of
// the whole server, so its two queries for due rows span every org; everything else is
// scoped by the org.
import type { Db } from './database.js';
import type { WebhookDeliveriesTable } from './schema.js';

export type DeliveryRow = Omit<WebhookDeliveriesTable, 'attempts'> & { attempts: number };

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export async function insertDeliveries(db: Db, rows: readonly DeliveryRow[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('webhook_deliveries').values([...rows]).execute();
}

/** A webhook's deliveries, newest first: ids below `before`, at most `limit`. */
export async function listDeliveries(
  db: Db,
  orgId: string,
  webhookId: string,
  window: { limit: number; before: string | null; status?: DeliveryStatus },
): Promise<DeliveryRow[]> {
  let query = db.selectFrom('webhook_deliveries').selectAll().where('org_id', '=', orgId).where('webhook_id', '=', webhookId);
  if (window.status !== undefined) query = query.where('status', '=', window.status);
  if (window.before !== null) query = query.where('id', '<', window.before);
  return query.orderBy('id', 'desc').limit(window.limit).execute();
}

/** Ids of pending deliveries due by `now`, the longest due first (any org). */
export async function dueDeliveryIds(db: Db, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Claims those of `ids` that are still pending and due: their next attempt moves to `until`,
 * so no other deliverer takes them before this one settles them (or, should it stop, until
 * then). One statement: of two deliverers claiming the same row, one gets it.
 */
export async function claimDeliveries(db: Db, ids: readonly string[], now: number, until: number): Promise<DeliveryRow[]> {
  if (ids.length === 0) return [];
  return db
    .updateTable('webhook_deliveries')
    .set({ next_attempt_at: until })
    .where('id', 'in', [...ids])
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .returningAll()
    .execute();
}

export type DeliveryOutcome = Pick<
  DeliveryRow,
  'status' | 'attempts' | 'next_attempt_at' | 'last_attempt_at' | 'last_status_code' | 'last_response' | 'last_error' | 'delivered_at'
>;

/** Settles an attempt of a delivery this deliverer claimed until `claimedUntil`; false when it is no longer its claim. */
export async function settleDelivery(db: Db, delivery: { orgId: string; id: string; claimedUntil: number }, outcome: DeliveryOutcome): Promise<boolean> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set(outcome)
    .where('org_id', '=', delivery.orgId)
    .where('id', '=', delivery.id)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '=', delivery.claimedUntil)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Deletes settled deliveries created before `before`, at most `limit` of them (any org); how many. */
export async function pruneDeliveries(db: Db, before: number, limit: number): Promise<number> {
  const old = db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '!=', 'pending')
    .where('created_at', '<', before)
    .limit(limit);
  const result = await db.deleteFrom('webhook_deliveries').where('id', 'in', old).executeTakeFirst();
  return Number(result.numDeletedRows);
}
