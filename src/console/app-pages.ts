// Creating an app, and an app's page: its header with the tabs "Settings" and "API keys"
// (each its own URL), and the Settings tab, which edits it.
import { Router, type RequestHandler } from 'express';
import { createApp, getApp, updateApp, type AppView, type UpdateAppInput } from '../domain/apps.js';
import { HttpError, InsufficientScopeError } from '../errors.js';
import { parseInput } from '../http/admin-request.js';
import { addressList, addressText, APP_FIELDS, appForm, appFormValues, type AppFormValues } from './app-form.js';
import { appPath } from './params.js';
import { dateCell } from './format.js';
import { fieldError, readForm, type FieldError } from './forms.js';
import { html, type Html, type HtmlValue } from './html.js';
import type { PageDeps } from './index.js';
import { csrfField, type Viewer } from './layout.js';
import { notice } from './parts.js';
import { signedIn } from './session.js';

/** An app's heading, facts and tabs; `tab` is the current one. */
export function appHeader(app: AppView, tab: 'settings' | 'keys'): Html {
  const tabLink = (id: string, label: string) =>
    html`<li><a href="/console/apps/${app.id}/${id}"${id === tab ? html` aria-current="page"` : ''}>${label}</a></li>`;
  return html`<p><a href="/console/apps">← Apps</a></p>
<h1>${app.name}</h1>
${app.description === '' ? '' : html`<p>${app.description}</p>`}
<dl class="facts">
  <dt>App ID</dt><dd><code id="app-id">${app.id}</code> <button type="button" class="secondary" data-copy="app-id" aria-label="Copy app ID" hidden>Copy</button></dd>
  <dt>Created by</dt><dd>${app.created_by_name ?? app.created_by}</dd>
  <dt>Created on</dt><dd>${dateCell(app.created_at)}</dd>
  <dt>Allowed IPs</dt><dd>${app.allowed_ips === null ? 'Any address' : html`<ul class="scopes">${app.allowed_ips.map((entry) => html`<li><code>${entry}</code></li>`)}</ul>`}</dd>
</dl>
<nav aria-label="App"><ul class="tabs">${tabLink('settings', 'Settings')}${tabLink('keys', 'API keys')}</ul></nav>`;
}

function valuesOf(app: AppView): AppFormValues {
  return {
    name: app.name,
    description: app.description,
    scopes: app.scopes,
    audience: app.audience ?? '',
    tokenTtl: app.token_ttl_seconds === null ? '' : String(app.token_ttl_seconds),
    allowedIps: addressText(app.allowed_ips),
  };
}

/** A refusal a form shows next to its field (the person can fix it); anything else is an error page. */
export function formRefusal(error: unknown, fields: Readonly<Record<string, string>>): FieldError | null {
  // A role without the scope gets the error page: there is nothing on the form to fix.
  if (error instanceof HttpError && !(error instanceof InsufficientScopeError) && [400, 403, 409].includes(error.status)) return fieldError(error, fields);
  return null;
}

/** The "Create app" page, empty or with what was submitted and why it was refused. */
function newAppPage(deps: PageDeps) {
  const settings = { catalog: deps.admin.catalog, config: deps.config };
  return (viewer: Viewer, values: AppFormValues, error: FieldError | null) =>
    deps.layout({
      title: 'Create app',
      viewer,
      section: 'apps',
      body: html`<p><a href="/console/apps">← Apps</a></p><h1>Create app</h1>${appForm(settings, { action: '/console/apps', csrf: csrfField(viewer), values, error, editing: false })}`,
    });
}

/** POST /console/apps (mounted with the list, on the same path): creates the app, or shows the form again. */
export function createAppPage(deps: PageDeps): RequestHandler {
  const newPage = newAppPage(deps);
  return async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const values = appFormValues(await readForm(req, res));
    try {
      const app = await createApp(deps.admin, actor, {
        name: values.name,
        description: values.description,
        scopes: values.scopes,
        audience: values.audience === '' ? null : values.audience,
        tokenTtlSeconds: values.tokenTtl === '' ? null : Number(values.tokenTtl),
        allowedIps: addressList(values.allowedIps ?? ''),
      });
      res.redirect(303, `/console/apps/${app.id}/keys?done=app-created`);
    } catch (error) {
      const refusal = formRefusal(error, APP_FIELDS);
      if (refusal === null) throw error;
      res.status((error as HttpError).status).type('html').send(newPage(viewer, values, refusal));
    }
  };
}

export function appPageRoutes(deps: PageDeps): Router {
  const { admin, layout } = deps;
  const settings = { catalog: admin.catalog, config: deps.config };
  const router = Router();

  const newPage = newAppPage(deps);

  router.get('/console/apps/new', deps.session, (_req, res) => {
    const { viewer } = signedIn(res);
    res.type('html').send(newPage(viewer, { name: '', description: '', scopes: [], audience: '', tokenTtl: '', allowedIps: '' }, null));
  });

  router.get('/console/apps/:app_id', deps.session, (req, res) => {
    const { app_id } = parseInput(appPath, req.params, 'path');
    res.redirect(303, `/console/apps/${app_id}/keys`);
  });

  const settingsPage = (viewer: Viewer, app: AppView, values: AppFormValues, error: FieldError | null, done: HtmlValue) =>
    layout({
      title: `${app.name}: settings`,
      viewer,
      section: 'apps',
      body: html`${appHeader(app, 'settings')}${done}${appForm(settings, { action: `/console/apps/${app.id}/settings`, csrf: csrfField(viewer), values, error, editing: true })}`,
    });

  router.get('/console/apps/:app_id/settings', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const { app_id } = parseInput(appPath, req.params, 'path');
    const app = await getApp(admin, actor, { appId: app_id });
    res.type('html').send(settingsPage(viewer, app, valuesOf(app), null, notice(req.query['done'])));
  });

  router.post('/console/apps/:app_id/settings', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const { app_id } = parseInput(appPath, req.params, 'path');
    const values = appFormValues(await readForm(req, res));
    const app = await getApp(admin, actor, { appId: app_id });
    const before = valuesOf(app);
    // Only what changed: an audience no longer listed stays while it is left alone.
    const input: UpdateAppInput = {
      appId: app.id,
      name: values.name,
      description: values.description,
      scopes: values.scopes,
      ...(values.audience === before.audience ? {} : { audience: values.audience === '' ? null : values.audience }),
      ...(values.tokenTtl === before.tokenTtl ? {} : { tokenTtlSeconds: values.tokenTtl === '' ? null : Number(values.tokenTtl) }),
      // Emptied: any address again. The domain compares normalized lists, so an unchanged one writes nothing.
      ...(values.allowedIps === null ? {} : { allowedIps: addressList(values.allowedIps) }),
    };
    try {
      await updateApp(admin, actor, input);
      res.redirect(303, `/console/apps/${app.id}/settings?done=app-saved`);
    } catch (error) {
      const refusal = formRefusal(error, APP_FIELDS);
      if (refusal === null) throw error;
      res.status((error as HttpError).status).type('html').send(settingsPage(viewer, app, values, refusal, ''));
    }
  });

  return router;
}
