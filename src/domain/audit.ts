// The audit log: who did what to which object, per org. Never a secret, hash or token.
import type { Db } from '../store/database.js';
import { insertAuditEvent, listAuditEvents as listStoredEvents, type AuditEventRow } from '../store/audit-events.js';
import { requireActorScope, type Actor, type AdminDeps } from './actor.js';
import { actorNames, type ActorNames } from './actor-names.js';
import type { Clock } from './clock.js';
import { newId } from './credentials.js';
import { pageQuery, toPage, type Page, type PageInput } from './pagination.js';
import { enqueueWebhookEvent, isWebhookEvent } from './webhook-events.js';

export interface AuditEntry {
  readonly orgId: string;
  /** The acting key id, `cli`, `system`, or `anonymous` for refused exchanges. */
  readonly actor: string;
  readonly action: string;
  readonly targetType?: string | null;
  readonly targetId?: string | null;
  readonly ip?: string | null;
  readonly details?: Record<string, unknown>;
}

/**
 * Records an event; pass a transaction to make it part of the change it describes. A
 * webhook event (webhook-events.ts) also enters the webhooks' outbox, in the same db.
 */
export async function recordAudit(db: Db, clock: Clock, entry: AuditEntry): Promise<void> {
  const at = clock.now();
  const id = newId('event', at);
  const details = entry.details ?? {};
  const targetType = entry.targetType ?? null;
  const targetId = entry.targetId ?? null;
  await insertAuditEvent(db, {
    id,
    org_id: entry.orgId,
    at,
    actor: entry.actor,
    action: entry.action,
    target_type: targetType,
    target_id: targetId,
    ip: entry.ip ?? null,
    details: JSON.stringify(details),
  });
  const { action } = entry;
  if (isWebhookEvent(action)) await enqueueWebhookEvent(db, { id, at, orgId: entry.orgId, actor: entry.actor, action, targetType, targetId, details });
}

/** An audit event as the admin API and CLI show it, its details parsed, its actor named. */
export type AuditEventView = Omit<AuditEventRow, 'details'> & { details: Record<string, unknown>; actor_name: string | null };

export interface ListAuditInput extends PageInput {
  readonly action?: string;
  readonly targetId?: string;
}

export function toAuditEventView(row: AuditEventRow, names: ActorNames): AuditEventView {
  return { ...row, details: JSON.parse(row.details) as Record<string, unknown>, actor_name: names(row.actor) };
}

/** The actor's org's events, newest first. */
export async function listAuditEvents(deps: Pick<AdminDeps, 'db'>, actor: Actor, input: ListAuditInput = {}): Promise<Page<AuditEventView>> {
  requireActorScope(actor, 'admin.audit:view');
  const query = pageQuery(input);
  const rows = await listStoredEvents(deps.db, actor.orgId, {
    ...(input.action === undefined ? {} : { action: input.action }),
    ...(input.targetId === undefined ? {} : { targetId: input.targetId }),
    limit: query.limit + 1,
    before: query.before,
  });
  const names = await actorNames(deps.db, rows.map((row) => row.actor));
  return toPage(rows, query, (row) => toAuditEventView(row, names));
}

/** An admin use case's event: filed in the actor's org, under the actor's id and address. */
export function recordActorAudit(db: Db, clock: Clock, actor: Actor, entry: Omit<AuditEntry, 'orgId' | 'actor' | 'ip'>): Promise<void> {
  return recordAudit(db, clock, { ...entry, orgId: actor.orgId, actor: actor.id, ip: actor.ip });
}
