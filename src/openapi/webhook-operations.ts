// Webhooks, as the document shows them: the operations of /v1/webhooks (their request schemas
// the routes' own) and the schemas of what they answer, typed against the renderers.
import { noInput } from '../http/admin-request.js';
import type { renderDelivery, renderWebhook } from '../http/render-webhooks.js';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhook-events.js';
import { createWebhookBody, deliveriesQuery, updateWebhookBody, webhookPath, webhooksQuery } from '../routes/webhooks.js';
import { DELIVERY_STATUSES } from '../store/webhook-deliveries.js';
import { problem, type Answer, type Caller, type Operation } from './operations.js';
import { arrayOf, boolean, integer, nullableInteger, nullableString, nullableTime, object, oneOfValues, ref, string, time, type JsonSchema } from './schema.js';

const view: Caller = { kind: 'admin', scopes: ['admin.webhooks:view'] };
const full: Caller = { kind: 'admin', scopes: ['admin.webhooks:full'] };
const ok = (body: string): Answer => ({ description: 'OK', body });
const notFound = problem('Not found in the caller’s org (another org’s id is not found either).');

const webhook = object<ReturnType<typeof renderWebhook>>(
  {
    id: string,
    org_id: string,
    url: string,
    events: arrayOf(oneOfValues(WEBHOOK_EVENT_TYPES)),
    description: string,
    enabled: { ...boolean, description: 'False: no event is sent to it (`PATCH` with `enabled`).' },
    created_at: time,
    created_by: string,
    created_by_name: nullableString,
    updated_at: time,
    disabled_at: nullableTime,
  },
  'An endpoint the org’s events are POSTed to, signed with its secret (Standard Webhooks); the secret is never answered again.',
);

const delivery = object<ReturnType<typeof renderDelivery>>(
  {
    id: string,
    webhook_id: string,
    event_id: { ...string, description: 'The `webhook-id` header of every attempt: the audit event’s id.' },
    event_type: oneOfValues(WEBHOOK_EVENT_TYPES),
    status: { ...oneOfValues(DELIVERY_STATUSES), description: '`pending` until a 2xx answer (`delivered`) or 24 hours of retries (`failed`).' },
    attempts: integer,
    next_attempt_at: nullableTime,
    last_attempt_at: nullableTime,
    last_status_code: { ...nullableInteger, description: 'The last answer’s status; null when there was none (see `last_error`).' },
    last_response: { ...nullableString, description: 'At most 1 KiB of the last answer’s body.' },
    last_error: nullableString,
    created_at: time,
    delivered_at: nullableTime,
  },
  'One event sent to one webhook, with its attempts so far.',
);

const withSecret: JsonSchema = {
  type: 'object',
  required: ['webhook', 'secret'],
  properties: { webhook: ref('Webhook'), secret: { type: 'string', description: 'The signing secret `whsec_…`: shown this once, stored only encrypted.' } },
};

const page = (item: string): JsonSchema => ({
  type: 'object',
  description: 'A page, newest first; pass `next_cursor` as `?cursor=` for the next one (null: the last page).',
  required: ['data', 'next_cursor'],
  properties: { data: arrayOf(ref(item)), next_cursor: nullableString },
});

export const webhookSchemas: Readonly<Record<string, JsonSchema>> = {
  Webhook: webhook,
  WebhookWithSecret: withSecret,
  WebhookPage: page('Webhook'),
  WebhookDelivery: delivery,
  WebhookDeliveryPage: page('WebhookDelivery'),
};

export function webhookOperations(): Operation[] {
  const tag = 'Webhooks';
  return [
    { method: 'get', path: '/v1/webhooks', tag, summary: 'List the org’s webhooks', caller: view, query: webhooksQuery, answers: { '200': ok('WebhookPage') } },
    {
      method: 'post',
      path: '/v1/webhooks',
      tag,
      summary: 'Register a webhook; its signing secret is answered this once',
      description: 'Only `https://` URLs to public addresses (see docs/webhooks.md for the operator’s switches); no user name or password in the URL. At most 20 per org.',
      caller: full,
      body: createWebhookBody,
      answers: { '201': { description: 'Created', body: 'WebhookWithSecret', headers: { Location: '/v1/webhooks/{webhook_id}' } }, '409': problem('The org has 20 webhooks already (`conflict`).') },
    },
    { method: 'get', path: '/v1/webhooks/:webhook_id', tag, summary: 'Read a webhook', caller: view, params: webhookPath, answers: { '200': ok('Webhook'), '404': notFound } },
    {
      method: 'patch',
      path: '/v1/webhooks/:webhook_id',
      tag,
      summary: 'Change a webhook’s URL, event types or description, or disable or enable it',
      description: 'At least one member. Disabling it fails its pending deliveries at their next attempt.',
      caller: full,
      params: webhookPath,
      body: updateWebhookBody,
      bodyRequired: true,
      answers: { '200': ok('Webhook'), '404': notFound },
    },
    { method: 'delete', path: '/v1/webhooks/:webhook_id', tag, summary: 'Delete a webhook and its deliveries', caller: full, params: webhookPath, answers: { '204': { description: 'Done; no body.' }, '404': notFound } },
    {
      method: 'post',
      path: '/v1/webhooks/:webhook_id/rotate-secret',
      tag,
      summary: 'Give a webhook a new signing secret, answered this once',
      description: 'Every attempt from now on, pending deliveries’ included, is signed with the new secret.',
      caller: full,
      params: webhookPath,
      body: noInput,
      answers: { '200': ok('WebhookWithSecret'), '404': notFound },
    },
    {
      method: 'get',
      path: '/v1/webhooks/:webhook_id/deliveries',
      tag,
      summary: 'A webhook’s deliveries, newest first',
      caller: view,
      params: webhookPath,
      query: deliveriesQuery,
      answers: { '200': ok('WebhookDeliveryPage'), '404': notFound },
    },
  ];
}
