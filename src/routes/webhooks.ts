// /v1/webhooks: register, list, read, change and delete the org's webhooks, roll a secret,
// and list a webhook's deliveries. The tenant is the caller's org, so a foreign id is a 404.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { WEBHOOK_URL_MAX } from '../domain/webhook-addresses.js';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhook-events.js';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  rotateWebhookSecret,
  updateWebhook,
  WEBHOOK_DESCRIPTION_MAX,
  type UpdateWebhookInput,
  type WebhookDeps,
} from '../domain/webhooks.js';
import { DELIVERY_STATUSES } from '../store/webhook-deliveries.js';
import { adminActor, idParam, jsonBody, noInput, pageQueryShape, parseInput } from '../http/admin-request.js';
import { requireScope } from '../http/bearer-auth.js';
import { renderPage } from '../http/render.js';
import { renderDelivery, renderWebhook } from '../http/render-webhooks.js';
import { noStore } from '../http/request-context.js';

export const webhookPath = z.strictObject({ webhook_id: idParam('webhook', 'a webhook') });
const url = z.string().min(1, { message: 'expected an https:// URL' }).max(WEBHOOK_URL_MAX, { message: `expected at most ${WEBHOOK_URL_MAX} characters` });
const events = z
  .array(z.enum(WEBHOOK_EVENT_TYPES, { message: `expected one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
  .min(1, { message: 'expected at least one event type' })
  .max(WEBHOOK_EVENT_TYPES.length * 2, { message: 'expected each event type at most once' });
const description = z.string().max(WEBHOOK_DESCRIPTION_MAX, { message: `expected at most ${WEBHOOK_DESCRIPTION_MAX} characters` });

export const createWebhookBody = z.strictObject({ url, events, description: description.optional() });
export const updateWebhookBody = z
  .strictObject({ url: url.optional(), events: events.optional(), description: description.optional(), enabled: z.boolean().optional() })
  .refine((body) => Object.keys(body).length > 0, { message: 'expected at least one of url, events, description, enabled' });
export const webhooksQuery = z.strictObject(pageQueryShape);
export const deliveriesQuery = z.strictObject({ ...pageQueryShape, status: z.enum(DELIVERY_STATUSES).optional() });

export function webhooksRoutes(deps: { webhooks: WebhookDeps; auth: RequestHandler }): Router {
  const { webhooks, auth } = deps;
  const router = Router();
  router.use('/v1/webhooks', auth, noStore);

  router.get('/v1/webhooks', requireScope('admin.webhooks:view'), async (req, res) => {
    const query = parseInput(webhooksQuery, req.query, 'query');
    const page = await listWebhooks(webhooks, adminActor(req, res), { limit: query.limit, cursor: query.cursor ?? null });
    res.json(renderPage(page, renderWebhook));
  });

  router.post('/v1/webhooks', requireScope('admin.webhooks:full'), jsonBody(), async (req, res) => {
    const body = parseInput(createWebhookBody, req.body, 'body');
    const created = await createWebhook(webhooks, adminActor(req, res), {
      url: body.url,
      events: body.events,
      ...(body.description === undefined ? {} : { description: body.description }),
    });
    res.status(201).location(`/v1/webhooks/${created.webhook.id}`).json({ webhook: renderWebhook(created.webhook), secret: created.secret });
  });

  router.get('/v1/webhooks/:webhook_id', requireScope('admin.webhooks:view'), async (req, res) => {
    const { webhook_id } = parseInput(webhookPath, req.params, 'path');
    res.json(renderWebhook(await getWebhook(webhooks, adminActor(req, res), { webhookId: webhook_id })));
  });

  router.patch('/v1/webhooks/:webhook_id', requireScope('admin.webhooks:full'), jsonBody(), async (req, res) => {
    const { webhook_id } = parseInput(webhookPath, req.params, 'path');
    const body = parseInput(updateWebhookBody, req.body, 'body');
    const input: UpdateWebhookInput = {
      webhookId: webhook_id,
      ...(body.url === undefined ? {} : { url: body.url }),
      ...(body.events === undefined ? {} : { events: body.events }),
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.enabled === undefined ? {} : { enabled: body.enabled }),
    };
    res.json(renderWebhook(await updateWebhook(webhooks, adminActor(req, res), input)));
  });

  router.delete('/v1/webhooks/:webhook_id', requireScope('admin.webhooks:full'), async (req, res) => {
    const { webhook_id } = parseInput(webhookPath, req.params, 'path');
    await deleteWebhook(webhooks, adminActor(req, res), { webhookId: webhook_id });
    res.status(204).end();
  });

  router.post('/v1/webhooks/:webhook_id/rotate-secret', requireScope('admin.webhooks:full'), jsonBody(), async (req, res) => {
    const { webhook_id } = parseInput(webhookPath, req.params, 'path');
    parseInput(noInput, req.body, 'body');
    const rotated = await rotateWebhookSecret(webhooks, adminActor(req, res), { webhookId: webhook_id });
    res.json({ webhook: renderWebhook(rotated.webhook), secret: rotated.secret });
  });

  router.get('/v1/webhooks/:webhook_id/deliveries', requireScope('admin.webhooks:view'), async (req, res) => {
    const { webhook_id } = parseInput(webhookPath, req.params, 'path');
    const query = parseInput(deliveriesQuery, req.query, 'query');
    const page = await listDeliveries(webhooks, adminActor(req, res), {
      webhookId: webhook_id,
      limit: query.limit,
      cursor: query.cursor ?? null,
      ...(query.status === undefined ? {} : { status: query.status }),
    });
    res.json(renderPage(page, renderDelivery));
  });

  return router;
}
