// Admin use cases of webhooks: register an endpoint for some event types (its signing
// secret shown once), read, change, disable, delete it, roll its secret, and list its
// deliveries. Reading takes admin.webhooks:view, changing admin.webhooks:full; every store
// call is scoped by the actor's org, and every change is audited in its transaction.
import type { WebhooksConfig } from '../config-webhooks.js';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { Db } from '../store/database.js';
import { DELIVERY_STATUSES, listDeliveries as listStoredDeliveries, type DeliveryRow, type DeliveryStatus } from '../store/webhook-deliveries.js';
import * as store from '../store/webhooks.js';
import type { WebhookRecord } from '../store/webhooks.js';
import { requireActorScope, type Actor } from './actor.js';
import { actorNames } from './actor-names.js';
import { recordActorAudit } from './audit.js';
import type { Clock } from './clock.js';
import { newId } from './credentials.js';
import { pageQuery, toPage, type Page, type PageInput } from './pagination.js';
import { checkWebhookUrl } from './webhook-addresses.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.js';
import { generateWebhookSecret, sealWebhookSecret } from './webhook-secrets.js';

export interface WebhookDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** Seals the signing secrets. */
  readonly kek: Buffer;
  readonly config: { readonly webhooks: WebhooksConfig };
}

/** A bound on each org's outbox writes: every webhook event costs one row per webhook. */
export const WEBHOOKS_PER_ORG_MAX = 20;
export const WEBHOOK_DESCRIPTION_MAX = 1000;

export type WebhookView = Omit<WebhookRecord, 'secret_encrypted'> & { enabled: boolean; created_by_name: string | null };

export interface CreatedWebhook {
  readonly webhook: WebhookView;
  /** `whsec_…`: shown once; stored only sealed under the KEK. */
  readonly secret: string;
}

export interface WebhookFields {
  readonly url?: string;
  readonly events?: readonly string[];
  readonly description?: string;
}

export interface UpdateWebhookInput extends WebhookFields {
  readonly webhookId: string;
  readonly enabled?: boolean;
}

export function webhookNotFound(webhookId: string): NotFoundError {
  return new NotFoundError(`no webhook ${webhookId} in this organization`);
}

function checkEvents(events: readonly string[]): WebhookEventType[] {
  const unknown = events.filter((event) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(event));
  if (unknown.length > 0) {
    throw new InvalidRequestError(`events: unknown event type ${unknown.map((e) => `"${e}"`).join(', ')}; expected some of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  }
  if (events.length === 0) throw new InvalidRequestError(`events: expected at least one of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  // In the catalogue's order, each once.
  return WEBHOOK_EVENT_TYPES.filter((event) => events.includes(event));
}

function checkDescription(description: string): string {
  if (description.length > WEBHOOK_DESCRIPTION_MAX) throw new InvalidRequestError(`description: expected at most ${WEBHOOK_DESCRIPTION_MAX} characters`);
  return description;
}

function toView(webhook: WebhookRecord, name: string | null): WebhookView {
  const { secret_encrypted: _sealed, ...rest } = webhook;
  return { ...rest, enabled: webhook.disabled_at === null, created_by_name: name };
}

async function viewOf(deps: Pick<WebhookDeps, 'db'>, webhook: WebhookRecord): Promise<WebhookView> {
  return toView(webhook, (await actorNames(deps.db, [webhook.created_by]))(webhook.created_by));
}

async function findWebhook(deps: Pick<WebhookDeps, 'db'>, actor: Actor, webhookId: string): Promise<WebhookRecord> {
  const webhook = await store.getWebhook(deps.db, actor.orgId, webhookId);
  if (!webhook) throw webhookNotFound(webhookId);
  return webhook;
}

export async function createWebhook(deps: WebhookDeps, actor: Actor, input: WebhookFields): Promise<CreatedWebhook> {
  requireActorScope(actor, 'admin.webhooks:full');
  const url = checkWebhookUrl(input.url ?? '', deps.config.webhooks);
  const events = checkEvents(input.events ?? []);
  const description = checkDescription(input.description ?? '');
  const now = deps.clock.now();
  const id = newId('webhook', now);
  const secret = generateWebhookSecret();
  const webhook: WebhookRecord = {
    id,
    org_id: actor.orgId,
    url,
    events,
    description,
    secret_encrypted: sealWebhookSecret(deps.kek, id, secret),
    created_at: now,
    created_by: actor.id,
    updated_at: now,
    disabled_at: null,
  };
  await deps.db.transaction().execute(async (trx) => {
    if ((await store.countWebhooks(trx, actor.orgId)) >= WEBHOOKS_PER_ORG_MAX) {
      throw new ConflictError(`an organization has at most ${WEBHOOKS_PER_ORG_MAX} webhooks; delete one first`);
    }
    await store.insertWebhook(trx, webhook);
    await recordActorAudit(trx, deps.clock, actor, { action: 'webhook.created', targetType: 'webhook', targetId: id, details: { url, events, description } });
  });
  return { webhook: await viewOf(deps, webhook), secret };
}

export async function listWebhooks(deps: Pick<WebhookDeps, 'db'>, actor: Actor, input: PageInput = {}): Promise<Page<WebhookView>> {
  requireActorScope(actor, 'admin.webhooks:view');
  const query = pageQuery(input);
  const rows = await store.listWebhooks(deps.db, actor.orgId, { limit: query.limit + 1, before: query.before });
  const names = await actorNames(deps.db, rows.map((row) => row.created_by));
  return toPage(rows, query, (row) => toView(row, names(row.created_by)));
}

export async function getWebhook(deps: Pick<WebhookDeps, 'db'>, actor: Actor, input: { webhookId: string }): Promise<WebhookView> {
  requireActorScope(actor, 'admin.webhooks:view');
  return viewOf(deps, await findWebhook(deps, actor, input.webhookId));
}

/** Only what changes is written and audited (with its previous value); nothing to change: no write, no event. */
export async function updateWebhook(deps: Pick<WebhookDeps, 'db' | 'clock' | 'config'>, actor: Actor, input: UpdateWebhookInput): Promise<WebhookView> {
  requireActorScope(actor, 'admin.webhooks:full');
  const current = await findWebhook(deps, actor, input.webhookId);
  const now = deps.clock.now();
  const changes: store.WebhookChanges = { updated_at: now };
  if (input.url !== undefined) changes.url = checkWebhookUrl(input.url, deps.config.webhooks);
  if (input.events !== undefined) changes.events = checkEvents(input.events);
  if (input.description !== undefined) changes.description = checkDescription(input.description);
  if (input.enabled !== undefined && input.enabled !== (current.disabled_at === null)) changes.disabled_at = input.enabled ? null : now;
  // Only what actually changes goes into the audit event, with its previous value.
  const diff: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of ['url', 'events', 'description'] as const) {
    const to = changes[field];
    if (to !== undefined && JSON.stringify(to) !== JSON.stringify(current[field])) diff[field] = { from: current[field], to };
  }
  if (changes.disabled_at !== undefined) diff['enabled'] = { from: current.disabled_at === null, to: changes.disabled_at === null };
  if (Object.keys(diff).length === 0) return viewOf(deps, current);
  const updated = await deps.db.transaction().execute(async (trx) => {
    const webhook = await store.updateWebhook(trx, actor.orgId, current.id, changes);
    if (!webhook) throw webhookNotFound(current.id);
    await recordActorAudit(trx, deps.clock, actor, { action: 'webhook.updated', targetType: 'webhook', targetId: current.id, details: { changes: diff } });
    return webhook;
  });
  return viewOf(deps, updated);
}

/** A new signing secret, shown once; every attempt from now on, pending deliveries' included, is signed with it. */
export async function rotateWebhookSecret(deps: WebhookDeps, actor: Actor, input: { webhookId: string }): Promise<CreatedWebhook> {
  requireActorScope(actor, 'admin.webhooks:full');
  const current = await findWebhook(deps, actor, input.webhookId);
  const secret = generateWebhookSecret();
  const updated = await deps.db.transaction().execute(async (trx) => {
    const sealed = sealWebhookSecret(deps.kek, current.id, secret);
    const webhook = await store.updateWebhook(trx, actor.orgId, current.id, { updated_at: deps.clock.now(), secret_encrypted: sealed });
    if (!webhook) throw webhookNotFound(current.id);
    await recordActorAudit(trx, deps.clock, actor, { action: 'webhook.updated', targetType: 'webhook', targetId: current.id, details: { secret_rotated: true } });
    return webhook;
  });
  return { webhook: await viewOf(deps, updated), secret };
}

/** Its deliveries go with it, pending ones included. */
export async function deleteWebhook(deps: Pick<WebhookDeps, 'db' | 'clock'>, actor: Actor, input: { webhookId: string }): Promise<void> {
  requireActorScope(actor, 'admin.webhooks:full');
  const current = await findWebhook(deps, actor, input.webhookId);
  await deps.db.transaction().execute(async (trx) => {
    if (!(await store.deleteWebhook(trx, actor.orgId, current.id))) throw webhookNotFound(current.id);
    await recordActorAudit(trx, deps.clock, actor, { action: 'webhook.deleted', targetType: 'webhook', targetId: current.id, details: { url: current.url, events: current.events } });
  });
}

export type DeliveryView = Omit<DeliveryRow, 'payload' | 'org_id'>;

export interface ListDeliveriesInput extends PageInput {
  readonly webhookId: string;
  readonly status?: DeliveryStatus;
}

/** A webhook's deliveries, newest first. */
export async function listDeliveries(deps: Pick<WebhookDeps, 'db'>, actor: Actor, input: ListDeliveriesInput): Promise<Page<DeliveryView>> {
  requireActorScope(actor, 'admin.webhooks:view');
  const query = pageQuery(input);
  if (input.status !== undefined && !DELIVERY_STATUSES.includes(input.status)) {
    throw new InvalidRequestError(`status: expected one of ${DELIVERY_STATUSES.join(', ')}`);
  }
  const webhook = await findWebhook(deps, actor, input.webhookId);
  const rows = await listStoredDeliveries(deps.db, actor.orgId, webhook.id, {
    limit: query.limit + 1,
    before: query.before,
    ...(input.status === undefined ? {} : { status: input.status }),
  });
  return toPage(rows, query, ({ payload: _payload, org_id: _org, ...rest }) => rest);
}
