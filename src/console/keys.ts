// The organization's API keys (filters Status, App and "Unused for N days", as GET /v1/keys),
// and the changes a key takes: revoke (with a reason), roll (with a grace period; the new
// secret is shown once) and delete. Each change has a confirmation page of its own, which
// console.js opens as a dialog from the row's button.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { actorHolds } from '../domain/actor.js';
import { listApps } from '../domain/apps.js';
import { KEY_STATUSES, type KeyView } from '../domain/key-status.js';
import { deleteKey, getKey, listKeys, revokeKey, rollKey, UNUSED_DAYS_MAX } from '../domain/keys.js';
import { HttpError } from '../errors.js';
import { idParam, parseInput } from '../http/admin-request.js';
import { formRefusal } from './app-pages.js';
import { keyPath } from './params.js';
import { copyOncePage } from './copy-once.js';
import { errorText, formAlert, readForm, type FieldError } from './forms.js';
import { html, type Html } from './html.js';
import type { PageDeps } from './index.js';
import { keyTable } from './key-table.js';
import { csrfField, type Viewer } from './layout.js';
import { backTo, doneUrl, notice, pager } from './parts.js';
import { signedIn } from './session.js';

const listQuery = z.object({
  status: z.union([z.enum(KEY_STATUSES), z.literal('')]).optional(),
  app: z.union([idParam('app', 'an app'), z.literal('')]).optional(),
  unused_days: z.union([z.string().regex(/^\d{1,5}$/, { message: `expected a whole number from 1 to ${UNUSED_DAYS_MAX}` }), z.literal('')]).optional(),
  cursor: z.string().max(200).optional(),
  done: z.string().max(40).optional(),
});
const GRACE = [
  [0, 'None: the old key stops working now'],
  [3600, '1 hour'],
  [86_400, '1 day'],
  [7 * 86_400, '7 days'],
  [30 * 86_400, '30 days'],
] as const;

const option = (value: string, label: string, current: string | undefined) => html`<option value="${value}"${value === (current ?? '') ? html` selected` : ''}>${label}</option>`;

export function keysRoutes(deps: PageDeps): Router {
  const { admin, layout } = deps;
  const router = Router();

  router.get('/console/keys', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const query = parseInput(listQuery, req.query, 'query');
    const unused = query.unused_days === undefined || query.unused_days === '' ? undefined : Number(query.unused_days);
    const [page, apps] = await Promise.all([
      listKeys(admin, actor, {
        limit: 50,
        cursor: query.cursor ?? null,
        ...(query.status ? { status: query.status } : {}),
        ...(query.app ? { appId: query.app } : {}),
        ...(unused === undefined ? {} : { unusedDays: unused }),
      }),
      listApps(admin, actor, { limit: 200 }),
    ]);
    const appNames = new Map(apps.data.map((app) => [app.id, app.name]));
    const filters = { status: query.status, app: query.app, unused_days: query.unused_days };
    res.type('html').send(
      layout({
        title: 'API keys',
        viewer,
        section: 'keys',
        body: html`<h1>API keys</h1>
${notice(query.done)}
<form method="get" action="/console/keys" class="filters" aria-label="Filter keys">
  <div class="field"><label for="status">Status</label><select id="status" name="status">${option('', 'Any', query.status)}${option('active', 'Active', query.status)}${option('revoked', 'Revoked', query.status)}${option('expired', 'Expired', query.status)}</select></div>
  <div class="field"><label for="app">App</label><select id="app" name="app">${option('', 'Any app', query.app)}${apps.data.map((app) => option(app.id, app.name, query.app))}</select></div>
  <div class="field"><label for="unused_days">Unused for N days</label><input id="unused_days" name="unused_days" type="number" min="1" max="${UNUSED_DAYS_MAX}" inputmode="numeric" value="${query.unused_days ?? ''}"></div>
  <button type="submit" class="secondary">Filter</button>
</form>
${page.data.length === 0
  ? html`<p>No key matches.</p>`
  : keyTable({ keys: page.data, now: admin.clock.now(), canChange: actorHolds(actor, 'admin.apps:edit'), back: req.originalUrl, appNames, caption: 'API keys of the organization' })}
${pager('/console/keys', { ...filters, cursor: query.cursor }, page.nextCursor)}`,
      }),
    );
  });

  const confirmPage = (viewer: Viewer, key: KeyView, action: 'revoke' | 'roll' | 'delete', back: string, error: FieldError | null, fields: Html) => {
    const titles = { revoke: `Revoke key “${key.name}”?`, roll: `Roll key “${key.name}”?`, delete: `Delete key “${key.name}”?` };
    const buttons = { revoke: 'Revoke key', roll: 'Roll key', delete: 'Delete key' };
    return layout({
      title: titles[action],
      viewer,
      section: 'keys',
      body: html`<form method="post" action="/console/keys/${key.id}/${action}" class="stack narrow">
  <h1>${titles[action]}</h1>
  ${formAlert(error)}
  ${csrfField(viewer)}<input type="hidden" name="back" value="${back}">
  ${fields}
  <div class="buttons"><button type="submit" class="${action === 'roll' ? 'primary' : 'danger'}">${buttons[action]}</button> <a href="${back}" class="button secondary" data-close>Cancel</a></div>
</form>`,
    });
  };

  const fieldsOf = (action: 'revoke' | 'roll' | 'delete', key: KeyView, error: FieldError | null, values: URLSearchParams | null): Html => {
    if (action === 'revoke') {
      return html`<p class="warning">From now on the key gets no token; tokens it already has work until they expire.</p>
<div class="field"><label for="reason">Reason</label><p class="hint" id="reason-hint">Optional; shown with the key and in the audit log.</p><textarea id="reason" name="reason" maxlength="500" aria-describedby="reason-hint">${values?.get('reason') ?? ''}</textarea>${errorText(error, 'reason')}</div>`;
    }
    if (action === 'roll') {
      const current = values?.get('grace') ?? '86400';
      return html`<p>A new key with the same name and a new secret is created now; the old one keeps working for the grace period, so you can deploy the new secret first.</p>
<div class="field"><label for="grace">Grace period</label><select id="grace" name="grace">${GRACE.map(([seconds, label]) => option(String(seconds), label, current))}</select>${errorText(error, 'grace')}</div>`;
    }
    return html`<p class="warning">The key <code>${key.id}</code> stops working at once, for good: anything still using it is refused from its next token.</p>`;
  };

  for (const action of ['revoke', 'roll', 'delete'] as const) {
    router.get(`/console/keys/:key_id/${action}`, deps.session, async (req, res) => {
      const { actor, viewer } = signedIn(res);
      const { key_id } = parseInput(keyPath, req.params, 'path');
      const key = await getKey(admin, actor, { keyId: key_id });
      const back = backTo(req.query['back'], `/console/apps/${key.app_id}/keys`);
      res.type('html').send(confirmPage(viewer, key, action, back, null, fieldsOf(action, key, null, null)));
    });
  }

  const change = (action: 'revoke' | 'roll' | 'delete'): RequestHandler => async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const { key_id } = parseInput(keyPath, req.params, 'path');
    const form = await readForm(req, res);
    const key = await getKey(admin, actor, { keyId: key_id });
    const back = backTo(form.get('back'), `/console/apps/${key.app_id}/keys`);
    try {
      if (action === 'revoke') {
        const reason = (form.get('reason') ?? '').trim();
        await revokeKey(admin, actor, { keyId: key.id, reason: reason === '' ? null : reason });
        return res.redirect(303, doneUrl(back, 'key-revoked'));
      }
      if (action === 'delete') {
        await deleteKey(admin, actor, { keyId: key.id });
        return res.redirect(303, doneUrl(back, 'key-deleted'));
      }
      const rolled = await rollKey(admin, actor, { keyId: key.id, graceSeconds: Number(form.get('grace') ?? 'x') });
      res.type('html').send(copyOncePage(layout, { viewer, key: rolled.key, secret: rolled.secret, apiUrl: deps.config.issuer, title: `API key “${rolled.key.name}” rolled` }));
    } catch (error) {
      const refusal = formRefusal(error, { reason: 'reason', grace_seconds: 'grace' });
      if (refusal === null) throw error;
      res.status((error as HttpError).status).type('html').send(confirmPage(viewer, key, action, back, refusal, fieldsOf(action, key, refusal, form)));
    }
  };
  for (const action of ['revoke', 'roll', 'delete'] as const) router.post(`/console/keys/:key_id/${action}`, deps.session, change(action));

  return router;
}
