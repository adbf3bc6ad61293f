// Organizations (the root org's owners: admin.orgs:full): the list, and "Create
// organization" (name → its admin key and its first owner's invitation link, both shown
// once, in the copy-once dialog). The same use cases as /v1/orgs.
import { Router } from 'express';
import { z } from 'zod';
import { requireRootAdmin, createOrg, listOrgs, type CreatedOrgView, type OrgView } from '../domain/orgs.js';
import { HttpError } from '../errors.js';
import { parseInput } from '../http/admin-request.js';
import { formRefusal } from './app-pages.js';
import { dateCell } from './format.js';
import { field, formAlert, readForm, textField, type FieldError } from './forms.js';
import { html } from './html.js';
import type { PageDeps } from './index.js';
import { csrfField, type Viewer } from './layout.js';
import { linkOnceBlock } from './link-once.js';
import { dialogButton, pager } from './parts.js';
import { signedIn } from './session.js';

const listQuery = z.object({ cursor: z.string().max(200).optional() });

function orgRow(org: OrgView) {
  return html`<tr>
  <th scope="row">${org.name}${org.is_root ? html` <span class="muted">(root)</span>` : ''}</th>
  <td><code>${org.id}</code></td>
  <td>${org.disabled ? html`<span class="badge badge-revoked">Disabled</span>` : html`<span class="badge badge-active">Active</span>`}</td>
  <td>${dateCell(org.created_at)}</td>
</tr>`;
}

/** The new org's admin key and owner link, once: the copy-once dialog ("Copy and close" copies the key's block). */
function createdPage(deps: PageDeps, viewer: Viewer, created: CreatedOrgView): string {
  const block = `SCOPE_ORG_ID=${created.org.id}\nSCOPE_API_KEY=${created.key.id}\nSCOPE_API_SECRET=${created.secret}\nSCOPE_AUTH_API_URL=${deps.config.issuer}`;
  const title = `Organization “${created.org.name}” created`;
  return deps.layout({
    title,
    viewer,
    section: 'orgs',
    body: html`<dialog open data-copy-once aria-labelledby="copy-once-title" aria-describedby="copy-once-warning">
  <h1 id="copy-once-title">${title}</h1>
  <p class="warning" id="copy-once-warning"><strong>Copy these now: they will not be shown again.</strong> The admin key acts for the new organization through the API; the link makes its first owner, who signs in here.</p>
  <div class="secret-block">
    ${created.ownerInvitationUrl === null ? '' : linkOnceBlock({ id: 'owner-link', label: 'First owner’s invitation link', url: created.ownerInvitationUrl })}
    <div>
      <span class="copy-label" id="env-block-label">Admin key</span>
      <div class="copy-row"><pre id="env-block" data-secret aria-labelledby="env-block-label">${block}</pre><button type="button" class="secondary" data-copy="env-block" aria-label="Copy Admin key" hidden>Copy</button></div>
    </div>
  </div>
  <div class="buttons"><button type="button" class="primary" data-copy-close="env-block" data-href="/console/orgs" hidden>Copy and close</button><a href="/console/orgs" class="button secondary" data-without-js>Close</a></div>
</dialog>`,
  });
}

export function orgsRoutes(deps: PageDeps): Router {
  const { admin, layout } = deps;
  const router = Router();

  router.get('/console/orgs', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const query = parseInput(listQuery, req.query, 'query');
    const page = await listOrgs(admin, actor, { limit: 50, cursor: query.cursor ?? null });
    res.type('html').send(
      layout({
        title: 'Organizations',
        viewer,
        section: 'orgs',
        body: html`<div class="page-head"><h1>Organizations</h1>${dialogButton('Create organization', '/console/orgs/new', { primary: true })}</div>
<div class="table-wrap"><table>
  <caption class="visually-hidden">Organizations</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">ID</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead>
  <tbody>${page.data.map(orgRow)}</tbody>
</table></div>
${pager('/console/orgs', { cursor: query.cursor }, page.nextCursor)}`,
      }),
    );
  });

  const newPage = (viewer: Viewer, name: string, error: FieldError | null) =>
    layout({
      title: 'Create organization',
      viewer,
      section: 'orgs',
      body: html`<form method="post" action="/console/orgs" class="stack narrow">
  <h1>Create organization</h1>
  <p>It comes with an <code>admin</code> app and its first key, and a one-time link for its first owner.</p>
  ${formAlert(error)}
  ${csrfField(viewer)}
  ${textField({ name: 'name', label: 'Name', value: name, error, attrs: html` required maxlength="100" autocomplete="off"` })}
  <div class="buttons"><button type="submit" class="primary">Create</button> <a href="/console/orgs" class="button secondary" data-close>Cancel</a></div>
</form>`,
    });

  router.get('/console/orgs/new', deps.session, async (_req, res) => {
    const { actor, viewer } = signedIn(res);
    await requireRootAdmin(admin, actor);
    res.type('html').send(newPage(viewer, '', null));
  });

  router.post('/console/orgs', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const name = field(await readForm(req, res), 'name');
    try {
      res.type('html').send(createdPage(deps, viewer, await createOrg(admin, actor, { name, inviteOwner: true })));
    } catch (error) {
      const refusal = formRefusal(error, { name: 'name' });
      if (refusal === null) throw error;
      res.status((error as HttpError).status).type('html').send(newPage(viewer, name, refusal));
    }
  });

  return router;
}
