// A webhook's page: its settings and recent deliveries, and the changes it takes: "Edit"
// (the form of webhook-form.ts), "Disable" / "Enable", "Rotate secret" (a confirmation, then
// the new secret once) and "Delete" (a confirmation, then the list). The same use cases as
// /v1/webhooks/{id}; a webhook of another organization is not found.
import { Router, type Request } from 'express';
import { z } from 'zod';
import { actorHolds, type Actor } from '../domain/actor.js';
import { deleteWebhook, getWebhook, listDeliveries, rotateWebhookSecret, updateWebhook, type WebhookView } from '../domain/webhooks.js';
import { HttpError } from '../errors.js';
import { parseInput } from '../http/admin-request.js';
import { formRefusal } from './app-pages.js';
import { dateCell } from './format.js';
import { readForm, type FieldError } from './forms.js';
import { html, type Html } from './html.js';
import type { PageDeps } from './index.js';
import { csrfField, type Viewer } from './layout.js';
import { webhookPath } from './params.js';
import { dialogButton, notice, pager } from './parts.js';
import { signedIn } from './session.js';
import { deliveriesTable } from './webhook-deliveries.js';
import { WEBHOOK_FIELDS, webhookForm, webhookFormValues, webhookValuesOf, type WebhookFormValues } from './webhook-form.js';
import { eventList, secretOncePage, webhookStatus } from './webhooks.js';

const pageQuery = z.object({ cursor: z.string().max(200).optional(), done: z.string().max(40).optional() });

function controls(webhook: WebhookView, viewer: Viewer): Html {
  const base = `/console/webhooks/${webhook.id}`;
  const toggle = webhook.enabled ? 'disable' : 'enable';
  return html`<div class="actions">
  <a href="${base}/edit" class="button secondary">Edit</a>
  <form method="post" action="${base}/${toggle}" class="inline">${csrfField(viewer)}<button type="submit" class="secondary" aria-describedby="toggle-hint">${webhook.enabled ? 'Disable' : 'Enable'}</button></form>
  ${dialogButton('Rotate secret', `${base}/rotate`)}
  ${dialogButton('Delete', `${base}/delete`, { danger: true })}
</div>`;
}

function toggleHint(webhook: WebhookView): Html {
  return html`<p class="hint" id="toggle-hint">${
    webhook.enabled
      ? 'Disabling it sends it nothing more, and its pending deliveries fail.'
      : 'Disabled: nothing is sent to it. Enabled again, it is sent the events from then on.'
  }</p>`;
}

function facts(webhook: WebhookView): Html {
  return html`<dl class="facts">
  <dt>Webhook ID</dt><dd><code id="webhook-id">${webhook.id}</code> <button type="button" class="secondary" data-copy="webhook-id" aria-label="Copy webhook ID" hidden>Copy</button></dd>
  <dt>URL</dt><dd><code>${webhook.url}</code></dd>
  <dt>Description</dt><dd>${webhook.description === '' ? html`<span class="muted">None</span>` : webhook.description}</dd>
  <dt>Events</dt><dd>${eventList(webhook.events)}</dd>
  <dt>Status</dt><dd>${webhookStatus(webhook)}${webhook.disabled_at === null ? '' : html` since ${dateCell(webhook.disabled_at)}`}</dd>
  <dt>Created by</dt><dd>${webhook.created_by_name ?? webhook.created_by}</dd>
  <dt>Created on</dt><dd>${dateCell(webhook.created_at)}</dd>
  <dt>Last changed</dt><dd>${dateCell(webhook.updated_at)}</dd>
</dl>`;
}

export function webhookPageRoutes(deps: PageDeps): Router {
  const { layout, webhooks } = deps;
  const router = Router();
  // An unknown id, or one of another organization, is the use case's 404.
  const load = (req: Request, actor: Actor) => getWebhook(webhooks, actor, { webhookId: parseInput(webhookPath, req.params, 'path').webhook_id });

  router.get('/console/webhooks/:webhook_id', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const query = parseInput(pageQuery, req.query, 'query');
    const webhook = await load(req, actor);
    const deliveries = await listDeliveries(webhooks, actor, { webhookId: webhook.id, limit: 50, cursor: query.cursor ?? null });
    const canManage = actorHolds(actor, 'admin.webhooks:full');
    res.type('html').send(
      layout({
        title: `Webhook ${webhook.url}`,
        viewer,
        section: 'webhooks',
        body: html`<p><a href="/console/webhooks">← Webhooks</a></p>
<div class="page-head"><h1 class="long-name">${webhook.url}</h1>${canManage ? controls(webhook, viewer) : ''}</div>
${notice(query.done)}
${canManage ? toggleHint(webhook) : ''}
${facts(webhook)}
<section aria-labelledby="deliveries-title">
  <h2 id="deliveries-title">Recent deliveries</h2>
  ${deliveriesTable(deliveries.data, webhooks.clock.now())}
  ${pager(`/console/webhooks/${webhook.id}`, { cursor: query.cursor }, deliveries.nextCursor)}
</section>`,
      }),
    );
  });

  const editPage = (viewer: Viewer, webhook: WebhookView, values: WebhookFormValues, error: FieldError | null) =>
    layout({
      title: `Edit webhook ${webhook.url}`,
      viewer,
      section: 'webhooks',
      body: html`<p><a href="/console/webhooks/${webhook.id}">← ${webhook.url}</a></p>
<h1>Edit webhook</h1>
${webhookForm(deps.config, { action: `/console/webhooks/${webhook.id}/edit`, csrf: csrfField(viewer), values, error, submit: 'Save', cancel: `/console/webhooks/${webhook.id}` })}`,
    });

  router.get('/console/webhooks/:webhook_id/edit', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const webhook = await load(req, actor);
    res.type('html').send(editPage(viewer, webhook, webhookValuesOf(webhook), null));
  });

  router.post('/console/webhooks/:webhook_id/edit', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const values = webhookFormValues(await readForm(req, res));
    const webhook = await load(req, actor);
    try {
      await updateWebhook(webhooks, actor, { webhookId: webhook.id, url: values.url, events: values.events, description: values.description });
      res.redirect(303, `/console/webhooks/${webhook.id}?done=webhook-saved`);
    } catch (error) {
      const refusal = formRefusal(error, WEBHOOK_FIELDS);
      if (refusal === null) throw error;
      res.status((error as HttpError).status).type('html').send(editPage(viewer, webhook, values, refusal));
    }
  });

  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    router.post(`/console/webhooks/:webhook_id/${action}`, deps.session, async (req, res) => {
      const { actor } = signedIn(res);
      await readForm(req, res);
      const webhook = await load(req, actor);
      await updateWebhook(webhooks, actor, { webhookId: webhook.id, enabled });
      res.redirect(303, `/console/webhooks/${webhook.id}?done=webhook-${action}d`);
    });
  }

  const confirmPage = (viewer: Viewer, webhook: WebhookView, action: 'rotate' | 'delete') => {
    const title = action === 'rotate' ? `Rotate the signing secret of “${webhook.url}”?` : `Delete webhook “${webhook.url}”?`;
    const text =
      action === 'rotate'
        ? 'A new secret is made and shown once. Every attempt from now on, retries of earlier events included, is signed with it: update the receiver right after.'
        : 'Nothing more is sent to it, and its deliveries, pending ones included, are deleted with it. This cannot be undone.';
    return layout({
      title,
      viewer,
      section: 'webhooks',
      body: html`<form method="post" action="/console/webhooks/${webhook.id}/${action}" class="stack narrow">
  <h1 class="long-name">${title}</h1>
  <p class="warning">${text}</p>
  ${csrfField(viewer)}
  <div class="buttons"><button type="submit" class="${action === 'rotate' ? 'primary' : 'danger'}">${action === 'rotate' ? 'Rotate secret' : 'Delete webhook'}</button> <a href="/console/webhooks/${webhook.id}" class="button secondary" data-close>Cancel</a></div>
</form>`,
    });
  };

  for (const action of ['rotate', 'delete'] as const) {
    router.get(`/console/webhooks/:webhook_id/${action}`, deps.session, async (req, res) => {
      const { actor, viewer } = signedIn(res);
      res.type('html').send(confirmPage(viewer, await load(req, actor), action));
    });
  }

  router.post('/console/webhooks/:webhook_id/rotate', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    await readForm(req, res);
    const webhook = await load(req, actor);
    const rotated = await rotateWebhookSecret(webhooks, actor, { webhookId: webhook.id });
    res.type('html').send(secretOncePage(layout, viewer, rotated, { title: 'Signing secret rotated', close: `/console/webhooks/${webhook.id}` }));
  });

  router.post('/console/webhooks/:webhook_id/delete', deps.session, async (req, res) => {
    const { actor } = signedIn(res);
    await readForm(req, res);
    const webhook = await load(req, actor);
    await deleteWebhook(webhooks, actor, { webhookId: webhook.id });
    res.redirect(303, '/console/webhooks?done=webhook-deleted');
  });

  return router;
}
