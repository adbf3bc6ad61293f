// The audit log of the organization, newest first: filters by action and by target, a page
// at a time (GET /v1/audit's query, as form fields).
import { Router } from 'express';
import { z } from 'zod';
import { listAuditEvents, type AuditEventView } from '../domain/audit.js';
import { parseInput } from '../http/admin-request.js';
import { relativeCell } from './format.js';
import { html, type Html } from './html.js';
import type { PageDeps } from './index.js';
import { pager, withQuery } from './parts.js';
import { signedIn } from './session.js';

const listQuery = z.object({
  action: z.string().max(100).optional(),
  target: z.string().max(100).optional(),
  cursor: z.string().max(200).optional(),
});

/** An app's page, a key's app's page; anything else, the events about it. */
function targetLink(event: AuditEventView): Html {
  if (event.target_id === null) return html`<span class="muted">—</span>`;
  const appId = typeof event.details['app_id'] === 'string' ? event.details['app_id'] : null;
  const href =
    event.target_type === 'app' && event.action !== 'app.deleted'
      ? `/console/apps/${event.target_id}/keys`
      : event.target_type === 'key' && appId !== null
        ? `/console/apps/${appId}/keys`
        : withQuery('/console/audit', {}, { target: event.target_id });
  return html`<a href="${href}">${event.target_type === null ? '' : `${event.target_type} `}<code>${event.target_id}</code></a>`;
}

function details(event: AuditEventView): Html {
  const entries = Object.entries(event.details);
  if (entries.length === 0) return html``;
  return html`<code class="details">${JSON.stringify(event.details)}</code>`;
}

export function auditRoutes(deps: PageDeps): Router {
  const { admin, layout } = deps;
  const router = Router();
  router.get('/console/audit', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const query = parseInput(listQuery, req.query, 'query');
    const action = query.action?.trim() ?? '';
    const target = query.target?.trim() ?? '';
    const page = await listAuditEvents(admin, actor, {
      limit: 50,
      cursor: query.cursor ?? null,
      ...(action === '' ? {} : { action }),
      ...(target === '' ? {} : { targetId: target }),
    });
    const now = admin.clock.now();
    res.type('html').send(
      layout({
        title: 'Audit log',
        viewer,
        section: 'audit',
        body: html`<h1>Audit log</h1>
<form method="get" action="/console/audit" class="filters" aria-label="Filter events">
  <div class="field"><label for="action">Action</label><input id="action" name="action" value="${action}" placeholder="key.revoked" maxlength="100"></div>
  <div class="field"><label for="target">Target</label><input id="target" name="target" value="${target}" placeholder="key_… or app_…" maxlength="100"></div>
  <button type="submit" class="secondary">Filter</button>
</form>
${page.data.length === 0
  ? html`<p>No event matches.</p>`
  : html`<div class="table-wrap"><table>
  <caption class="visually-hidden">Audit events, newest first</caption>
  <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Target</th><th scope="col">IP</th><th scope="col">Details</th></tr></thead>
  <tbody>${page.data.map(
    (event) => html`<tr>
  <td>${relativeCell(event.at, now)}</td>
  <td>${event.actor_name ?? event.actor}</td>
  <th scope="row"><code>${event.action}</code></th>
  <td>${targetLink(event)}</td>
  <td>${event.ip ?? ''}</td>
  <td>${details(event)}</td>
</tr>`,
  )}</tbody>
</table></div>`}
${pager('/console/audit', { action: action === '' ? undefined : action, target: target === '' ? undefined : target, cursor: query.cursor }, page.nextCursor)}`,
      }),
    );
  });
  return router;
}
