// Webhooks and their deliveries → JSON for the admin API, field by field as render.ts does
// for the rest: the sealed secret and a delivery's body are never among them.
import type { DeliveryView, WebhookView } from '../domain/webhooks.js';
import { isoTime } from './render.js';

export function renderWebhook(webhook: WebhookView) {
  return {
    id: webhook.id,
    org_id: webhook.org_id,
    url: webhook.url,
    events: webhook.events,
    description: webhook.description,
    enabled: webhook.enabled,
    created_at: isoTime(webhook.created_at),
    created_by: webhook.created_by,
    created_by_name: webhook.created_by_name,
    updated_at: isoTime(webhook.updated_at),
    disabled_at: isoTime(webhook.disabled_at),
  };
}

export function renderDelivery(delivery: DeliveryView) {
  return {
    id: delivery.id,
    webhook_id: delivery.webhook_id,
    event_id: delivery.event_id,
    event_type: delivery.event_type,
    status: delivery.status,
    attempts: delivery.attempts,
    next_attempt_at: isoTime(delivery.next_attempt_at),
    last_attempt_at: isoTime(delivery.last_attempt_at),
    last_status_code: delivery.last_status_code,
    last_response: delivery.last_response,
    last_error: delivery.last_error,
    created_at: isoTime(delivery.created_at),
    delivered_at: isoTime(delivery.delivered_at),
  };
}
