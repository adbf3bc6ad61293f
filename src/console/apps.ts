// The apps of the organization (the console's home): search by name, a page at a time, and
// deleting one (a confirmation page, shown in a dialog by console.js).
import { Router } from 'express';
import { z } from 'zod';
import { actorHolds, type AdminDeps } from '../domain/actor.js';
import { deleteApp, getApp, listApps, type AppView } from '../domain/apps.js';
import { countAppKeys, type KeyCount } from '../domain/key-counts.js';
import { parseInput } from '../http/admin-request.js';
import { createAppPage } from './app-pages.js';
import { appPath } from './params.js';
import { compactScopes, dateCell } from './format.js';
import { readForm } from './forms.js';
import { html } from './html.js';
import type { PageDeps } from './index.js';
import { csrfField } from './layout.js';
import { backTo, dialogButton, doneUrl, notice, pager } from './parts.js';
import { signedIn } from './session.js';

const listQuery = z.object({
  q: z.string().max(100).optional(),
  cursor: z.string().max(200).optional(),
  done: z.string().max(40).optional(),
});

function appRow(deps: AdminDeps, app: AppView, keys: KeyCount, can: { edit: boolean; full: boolean }, back: string) {
  const scopes = compactScopes(app.effective_scopes, deps.catalog.components);
  const nameId = `app-${app.id}`;
  return html`<tr>
  <th scope="row" id="${nameId}"><a href="/console/apps/${app.id}/keys">${app.name}</a></th>
  <td>${scopes.length === 0 ? html`<span class="muted">None</span>` : html`<ul class="scopes">${scopes.map((s) => html`<li><code>${s}</code></li>`)}</ul>`}</td>
  <td>${keys.total}${keys.total === keys.active ? '' : html` <span class="muted">(${keys.active} active)</span>`}</td>
  <td>${app.created_by_name ?? app.created_by}</td>
  <td>${dateCell(app.created_at)}</td>
  <td class="actions">${can.edit ? html`<a href="/console/apps/${app.id}/settings" class="button secondary" aria-describedby="${nameId}">Edit</a>` : ''}${
    can.full ? dialogButton('Delete', `/console/apps/${app.id}/delete`, { back, danger: true, describe: nameId }) : ''
  }</td>
</tr>`;
}

export function appsRoutes(deps: PageDeps): Router {
  const { admin, layout } = deps;
  const router = Router();
  router.get('/console', (_req, res) => res.redirect(303, '/console/apps'));

  router.get('/console/apps', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const query = parseInput(listQuery, req.query, 'query');
    const q = query.q?.trim() ?? '';
    const page = await listApps(admin, actor, { limit: 50, cursor: query.cursor ?? null, ...(q === '' ? {} : { name: q }) });
    const keys = await countAppKeys(admin, actor, page.data.map((app) => app.id));
    const can = { edit: actorHolds(actor, 'admin.apps:edit'), full: actorHolds(actor, 'admin.apps:full') };
    const back = req.originalUrl;
    res.type('html').send(
      layout({
        title: 'Apps',
        viewer,
        section: 'apps',
        body: html`<div class="page-head">
  <h1>Apps</h1>
  ${can.full ? html`<form method="get" action="/console/apps/new" class="inline"><button type="submit" class="primary">Create app</button></form>` : ''}
</div>
${notice(query.done)}
<form method="get" action="/console/apps" class="filters" role="search">
  <div class="field"><label for="q">Search by name</label><input id="q" name="q" type="search" value="${q}" maxlength="100"></div>
  <button type="submit" class="secondary">Search</button>
</form>
${page.data.length === 0
  ? html`<p>${q === '' ? 'No apps yet.' : html`No app's name contains “${q}”.`}${can.full && q === '' ? ' Create one to issue API keys.' : ''}</p>`
  : html`<div class="table-wrap"><table>
  <caption class="visually-hidden">Apps${q === '' ? '' : html` whose name contains “${q}”`}</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Keys</th><th scope="col">Created by</th><th scope="col">Created on</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>${page.data.map((app) => appRow(admin, app, keys(app.id), can, back))}</tbody>
</table></div>`}
${pager('/console/apps', { q: q === '' ? undefined : q, cursor: query.cursor }, page.nextCursor)}`,
      }),
    );
  });

  // One router holds every method of a path (the 405 answers are read from the routers).
  router.post('/console/apps', deps.session, createAppPage(deps));

  router.get('/console/apps/:app_id/delete', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const { app_id } = parseInput(appPath, req.params, 'path');
    const app = await getApp(admin, actor, { appId: app_id });
    const back = backTo(req.query['back'], '/console/apps');
    res.type('html').send(
      layout({
        title: `Delete ${app.name}`,
        viewer,
        section: 'apps',
        body: html`<form method="post" action="/console/apps/${app.id}/delete" class="stack confirm">
  <h1>Delete app “${app.name}”?</h1>
  <p class="warning">Every key of this app stops working at once, and the app cannot be brought back.</p>
  ${csrfField(viewer)}<input type="hidden" name="back" value="${back}">
  <div class="buttons"><button type="submit" class="danger">Delete app</button> <a href="${back}" class="button secondary" data-close>Cancel</a></div>
</form>`,
      }),
    );
  });

  router.post('/console/apps/:app_id/delete', deps.session, async (req, res) => {
    const { actor } = signedIn(res);
    const { app_id } = parseInput(appPath, req.params, 'path');
    const form = await readForm(req, res);
    await deleteApp(admin, actor, { appId: app_id });
    const back = backTo(form.get('back'), '/console/apps');
    // The app's own pages are gone: return to the list.
    res.redirect(303, doneUrl(back.startsWith(`/console/apps/${app_id}`) ? '/console/apps' : back, 'app-deleted'));
  });

  return router;
}
