// The organization's webhooks: the list (URL, events, status, created; a page at a time) and
// "Add webhook", whose signing secret is then shown once in the copy-once dialog. A
// webhook's own page and its changes are webhook-pages.ts. The same use cases as /v1/webhooks.
import { Router } from 'express';
import { z } from 'zod';
import { actorHolds } from '../domain/actor.js';
import { createWebhook, listWebhooks, type CreatedWebhook, type WebhookView } from '../domain/webhooks.js';
import { HttpError } from '../errors.js';
import { parseInput } from '../http/admin-request.js';
import { formRefusal } from './app-pages.js';
import { copyOnceDialog } from './copy-once.js';
import { dateCell } from './format.js';
import { readForm, type FieldError } from './forms.js';
import { html, type Html } from './html.js';
import type { PageDeps } from './index.js';
import { csrfField, type Layout, type Viewer } from './layout.js';
import { notice, pager } from './parts.js';
import { signedIn } from './session.js';
import { EMPTY_WEBHOOK, WEBHOOK_FIELDS, webhookForm, webhookFormValues, type WebhookFormValues } from './webhook-form.js';

const listQuery = z.object({ cursor: z.string().max(200).optional(), done: z.string().max(40).optional() });

/** Enabled or Disabled, as a badge. */
export function webhookStatus(webhook: WebhookView): Html {
  return webhook.enabled ? html`<span class="badge badge-active">Enabled</span>` : html`<span class="badge badge-expired">Disabled</span>`;
}

export function eventList(events: readonly string[]): Html {
  return html`<ul class="scopes">${events.map((event) => html`<li><code>${event}</code></li>`)}</ul>`;
}

function webhookRow(webhook: WebhookView): Html {
  return html`<tr>
  <th scope="row"><a href="/console/webhooks/${webhook.id}">${webhook.url}</a>${webhook.description === '' ? '' : html`<br><span class="muted">${webhook.description}</span>`}</th>
  <td>${eventList(webhook.events)}</td>
  <td>${webhookStatus(webhook)}</td>
  <td>${dateCell(webhook.created_at)}</td>
</tr>`;
}

/**
 * A new signing secret, once: after adding a webhook (closing to the list) or rotating its
 * secret (closing to its page). "Copy and close" copies the secret.
 */
export function secretOncePage(layout: Layout, viewer: Viewer, created: CreatedWebhook, options: { title: string; close: string }): string {
  return copyOnceDialog(layout, {
    viewer,
    section: 'webhooks',
    title: options.title,
    copyNow: 'Copy the signing secret now: you will not see it again.',
    warning: html`The receiver verifies each delivery's <code>webhook-signature</code> with it. It is stored encrypted and no page shows it again; if it is lost, rotate it.`,
    values: [
      { id: 'webhook-id', label: 'Webhook ID', value: created.webhook.id },
      { id: 'signing-secret', label: 'Signing secret', value: created.secret },
    ],
    copyOnClose: 'signing-secret',
    close: options.close,
  });
}

export function webhooksRoutes(deps: PageDeps): Router {
  const { layout } = deps;
  const router = Router();

  router.get('/console/webhooks', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const query = parseInput(listQuery, req.query, 'query');
    const page = await listWebhooks(deps.webhooks, actor, { limit: 50, cursor: query.cursor ?? null });
    const canManage = actorHolds(actor, 'admin.webhooks:full');
    res.type('html').send(
      layout({
        title: 'Webhooks',
        viewer,
        section: 'webhooks',
        body: html`<div class="page-head">
  <h1>Webhooks</h1>
  ${canManage ? html`<a href="/console/webhooks/new" class="button primary">Add webhook</a>` : ''}
</div>
${notice(query.done)}
<p>Endpoints the server POSTs events to as they happen (a key created, revoked, rolled, expiring or expired; an app or the organization changed), signed as Standard Webhooks.</p>
${page.data.length === 0 && query.cursor === undefined
  ? html`<p>No webhooks yet.</p>`
  : html`<div class="table-wrap"><table>
  <caption class="visually-hidden">Webhooks, newest first</caption>
  <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead>
  <tbody>${page.data.map(webhookRow)}</tbody>
</table></div>`}
${pager('/console/webhooks', { cursor: query.cursor }, page.nextCursor)}`,
      }),
    );
  });

  const newPage = (viewer: Viewer, values: WebhookFormValues, error: FieldError | null) =>
    layout({
      title: 'Add webhook',
      viewer,
      section: 'webhooks',
      body: html`<p><a href="/console/webhooks">← Webhooks</a></p>
<h1>Add webhook</h1>
${webhookForm(deps.config, { action: '/console/webhooks', csrf: csrfField(viewer), values, error, submit: 'Add webhook', cancel: '/console/webhooks' })}`,
    });

  router.get('/console/webhooks/new', deps.session, (_req, res) => {
    const { viewer } = signedIn(res);
    res.type('html').send(newPage(viewer, EMPTY_WEBHOOK, null));
  });

  router.post('/console/webhooks', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const values = webhookFormValues(await readForm(req, res));
    try {
      const created = await createWebhook(deps.webhooks, actor, { url: values.url, events: values.events, description: values.description });
      res.type('html').send(secretOncePage(layout, viewer, created, { title: 'Webhook added', close: '/console/webhooks' }));
    } catch (error) {
      const refusal = formRefusal(error, WEBHOOK_FIELDS);
      if (refusal === null) throw error;
      res.status((error as HttpError).status).type('html').send(newPage(viewer, values, refusal));
    }
  });

  return router;
}
