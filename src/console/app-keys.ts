// An app's "API keys" tab, and creating a key: the form ("Name", an optional "Expires" date
// within the server's maximum lifetime, optionally some of the app's scopes and the addresses
// it may be used from), then the copy-once page with the secret.
import { Router } from 'express';
import { z } from 'zod';
import { actorHolds } from '../domain/actor.js';
import { getApp, type AppView } from '../domain/apps.js';
import { createKey, DAY_MS, listKeys } from '../domain/keys.js';
import { HttpError, InvalidRequestError } from '../errors.js';
import { parseInput } from '../http/admin-request.js';
import { addressList, allowedIpsField } from './app-form.js';
import { appHeader, formRefusal } from './app-pages.js';
import { appPath } from './params.js';
import { copyOncePage } from './copy-once.js';
import { errorText, field, formAlert, readForm, textField, type FieldError } from './forms.js';
import { html, type Html } from './html.js';
import type { PageDeps } from './index.js';
import { keyTable } from './key-table.js';
import { csrfField, type Viewer } from './layout.js';
import { dialogButton, notice, pager } from './parts.js';
import { signedIn } from './session.js';

const tabQuery = z.object({ cursor: z.string().max(200).optional(), done: z.string().max(40).optional() });
const KEY_FIELDS = { name: 'name', expires_at: 'expires', scopes: 'scopes', allowed_ips: 'allowed_ips' };

interface KeyFormValues {
  readonly name: string;
  readonly expires: string;
  /** Ticked scopes; none: whatever the app grants. */
  readonly scopes: readonly string[];
  readonly allowedIps: string;
}

/** The app's scopes (as its keys get them, implications included), each a checkbox named after it. */
function scopeChoices(app: AppView, values: KeyFormValues, error: FieldError | null): Html {
  const ticked = new Set(values.scopes);
  const invalid = error?.field === 'scopes';
  return html`<fieldset class="stack"${invalid ? html` aria-describedby="scopes-hint scopes-error"` : html` aria-describedby="scopes-hint"`}>
  <legend>Scopes</legend>
  <p class="hint" id="scopes-hint">Optional. Tick some of the app's scopes to give the key only those, for good; tick none for everything the app grants, now and as it changes.</p>
  ${app.effective_scopes.length === 0
    ? html`<p>This app grants no scope.</p>`
    : html`<div class="choices">${app.effective_scopes.map(
        (scope) => html`<label><input type="checkbox" name="scope" value="${scope}"${ticked.has(scope) ? html` checked` : ''}> <code>${scope}</code></label>`,
      )}</div>`}
  ${errorText(error, 'scopes')}
</fieldset>`;
}
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A date (YYYY-MM-DD) → the key's expiry: 00:00 UTC that day. */
function expiryOf(date: string): number | undefined {
  if (date === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  if (Number.isNaN(ms)) throw new InvalidRequestError('expires_at: expected a date such as 2027-01-31');
  return ms;
}

export function appKeysRoutes(deps: PageDeps): Router {
  const { admin, layout } = deps;
  const router = Router();

  router.get('/console/apps/:app_id/keys', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const { app_id } = parseInput(appPath, req.params, 'path');
    const query = parseInput(tabQuery, req.query, 'query');
    const app = await getApp(admin, actor, { appId: app_id });
    const page = await listKeys(admin, actor, { appId: app.id, limit: 50, cursor: query.cursor ?? null });
    const canChange = actorHolds(actor, 'admin.apps:edit');
    const path = `/console/apps/${app.id}/keys`;
    res.type('html').send(
      layout({
        title: `${app.name}: API keys`,
        viewer,
        section: 'apps',
        body: html`${appHeader(app, 'keys')}
${notice(query.done)}
<div class="page-head"><h2>API keys</h2>${canChange ? dialogButton('Create API key', `/console/apps/${app.id}/keys/new`, { primary: true }) : ''}</div>
${page.data.length === 0 ? html`<p>This app has no keys yet.</p>` : keyTable({ keys: page.data, now: admin.clock.now(), canChange, back: req.originalUrl, caption: `API keys of ${app.name}` })}
${pager(path, { cursor: query.cursor }, page.nextCursor)}`,
      }),
    );
  });

  const newKeyPage = (viewer: Viewer, app: AppView, values: KeyFormValues, error: FieldError | null) => {
    const days = admin.config.keyMaxLifetimeDays;
    const now = admin.clock.now();
    const latest = days === null ? null : day(now + days * DAY_MS);
    const hint =
      latest === null
        ? 'Optional. The key stops working at 00:00 UTC on this date; leave it empty for a key that does not expire.'
        : `Keys on this server expire within ${days} days: on ${latest} at the latest, which is what an empty date gives. The key stops working at 00:00 UTC on the date.`;
    return layout({
      title: `Create API key for ${app.name}`,
      viewer,
      section: 'apps',
      body: html`<form method="post" action="/console/apps/${app.id}/keys" class="stack narrow">
  <h1>Create API key for “${app.name}”</h1>
  ${formAlert(error)}
  ${csrfField(viewer)}
  ${textField({ name: 'name', label: 'Name', value: values.name, error, hint: 'Where the key is used, e.g. “billing worker, production”.', attrs: html` required maxlength="100"` })}
  ${textField({ name: 'expires', label: 'Expires', type: 'date', value: values.expires, error, hint, attrs: html` min="${day(now + DAY_MS)}"${latest === null ? '' : html` max="${latest}"`}` })}
  ${scopeChoices(app, values, error)}
  ${allowedIpsField({
    value: values.allowedIps,
    error,
    hint:
      app.allowed_ips === null
        ? 'Optional. One address or CIDR range per line: the key gets tokens only from these. Empty: from any address.'
        : `Optional. One address or CIDR range per line, within the app's (${app.allowed_ips.join(', ')}): the key gets tokens only from these. Empty: the app's list.`,
  })}
  <div class="buttons"><button type="submit" class="primary">Create</button> <a href="/console/apps/${app.id}/keys" class="button secondary" data-close>Cancel</a></div>
</form>`,
    });
  };

  router.get('/console/apps/:app_id/keys/new', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const { app_id } = parseInput(appPath, req.params, 'path');
    const app = await getApp(admin, actor, { appId: app_id });
    res.type('html').send(newKeyPage(viewer, app, { name: '', expires: '', scopes: [], allowedIps: '' }, null));
  });

  router.post('/console/apps/:app_id/keys', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const { app_id } = parseInput(appPath, req.params, 'path');
    const form = await readForm(req, res);
    const values: KeyFormValues = { name: field(form, 'name'), expires: field(form, 'expires'), scopes: form.getAll('scope'), allowedIps: form.get('allowed_ips') ?? '' };
    const app = await getApp(admin, actor, { appId: app_id });
    try {
      const expiresAt = expiryOf(values.expires);
      const created = await createKey(admin, actor, {
        appId: app.id,
        name: values.name,
        ...(expiresAt === undefined ? {} : { expiresAt }),
        scopes: values.scopes.length === 0 ? null : values.scopes,
        allowedIps: addressList(values.allowedIps),
      });
      res.type('html').send(copyOncePage(layout, { viewer, key: created.key, secret: created.secret, apiUrl: deps.config.issuer, title: `API key “${created.key.name}” created` }));
    } catch (error) {
      const refusal = formRefusal(error, KEY_FIELDS);
      if (refusal === null) throw error;
      res.status((error as HttpError).status).type('html').send(newKeyPage(viewer, app, values, refusal));
    }
  });

  return router;
}
