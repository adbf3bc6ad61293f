// The events webhooks receive, and how they enter the outbox. An event is an audit event of
// one of these actions: recordAudit (audit.ts) hands each such event here, in the
// transaction of the change, so a change that rolls back sends nothing and one that commits
// is delivered however the process fares afterwards. Whoever records `key.revoked` (an
// admin, a leak report, the unused-key job) produces the webhook event with it.
import { insertDeliveries, type DeliveryRow } from '../store/webhook-deliveries.js';
import type { Db } from '../store/database.js';
import { enabledWebhooks } from '../store/webhooks.js';
import { newId } from './credentials.js';

export const WEBHOOK_EVENT_TYPES = ['key.created', 'key.revoked', 'key.rolled', 'key.expiring', 'key.expired', 'app.updated', 'org.updated'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const EVENT_TYPES: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

/** Whether an audit action is a webhook event: a set lookup, so every other audit event costs nothing more. */
export function isWebhookEvent(action: string): action is WebhookEventType {
  return EVENT_TYPES.has(action);
}

/** The audit event as recordAudit stored it. */
export interface RecordedEvent {
  readonly id: string;
  readonly at: number;
  readonly orgId: string;
  readonly actor: string;
  readonly action: WebhookEventType;
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly details: Record<string, unknown>;
}

// Audit details hold no secret by rule; should one ever slip in under one of these names, it
// still never leaves the server. The envelope's own members are not overridden by details.
const WITHHELD = new Set(['secret', 'secret_hash', 'secret_digest', 'secret_encrypted', 'password', 'password_hash', 'token', 'access_token', 'org_id', 'object', 'id', 'actor']);

/** The Standard Webhooks body: `{ type, timestamp, data }`. */
export function webhookPayload(event: RecordedEvent): string {
  const details = Object.fromEntries(Object.entries(event.details).filter(([name]) => !WITHHELD.has(name)));
  return JSON.stringify({
    type: event.action,
    timestamp: new Date(event.at).toISOString(),
    data: { org_id: event.orgId, object: event.targetType, id: event.targetId, actor: event.actor, ...details },
  });
}

/** One pending delivery for each enabled webhook of the event's org that wants its type. */
export async function enqueueWebhookEvent(db: Db, event: RecordedEvent): Promise<void> {
  const webhooks = (await enabledWebhooks(db, event.orgId)).filter((webhook) => webhook.events.includes(event.action));
  if (webhooks.length === 0) return;
  const payload = webhookPayload(event);
  const rows: DeliveryRow[] = webhooks.map((webhook) => ({
    id: newId('delivery', event.at),
    webhook_id: webhook.id,
    org_id: event.orgId,
    event_id: event.id,
    event_type: event.action,
    payload,
    created_at: event.at,
    status: 'pending',
    attempts: 0,
    next_attempt_at: event.at,
    last_attempt_at: null,
    last_status_code: null,
    last_response: null,
    last_error: null,
    delivered_at: null,
  }));
  await insertDeliveries(db, rows);
}
