// People (owners: admin.users:full): the org's people with their role, status and last
// sign-in, and "Invite" (email and role → the one-time invitation link, shown once). Each
// row's changes are in people-changes.ts. The same use cases as /v1/users.
import { Router } from 'express';
import { z } from 'zod';
import { requireActorScope } from '../domain/actor.js';
import { inviteUser, listUsers, type PersonView } from '../domain/people.js';
import { ROLES } from '../domain/roles.js';
import { HttpError } from '../errors.js';
import { parseInput } from '../http/admin-request.js';
import { formRefusal } from './app-pages.js';
import { relativeCell } from './format.js';
import { errorText, field, formAlert, readForm, textField, type FieldError } from './forms.js';
import { html, type Html } from './html.js';
import type { PageDeps } from './index.js';
import { csrfField, type Viewer } from './layout.js';
import { linkOncePage } from './link-once.js';
import { dialogButton, notice, pager } from './parts.js';
import { signedIn } from './session.js';

const listQuery = z.object({ cursor: z.string().max(200).optional(), done: z.string().max(40).optional() });
const INVITE_FIELDS = { email: 'email', role: 'role' };

const STATUS_WORDS: Readonly<Record<string, string>> = { active: 'Active', invited: 'Invited', disabled: 'Disabled' };
const STATUS_BADGES: Readonly<Record<string, string>> = { active: 'active', invited: 'expired', disabled: 'revoked' };

export function roleOptions(current: string): Html {
  return html`${ROLES.map((role) => html`<option value="${role}"${role === current ? html` selected` : ''}>${role}</option>`)}`;
}

function personRow(person: PersonView, now: number, self: string, back: string): Html {
  const nameId = `person-${person.id}`;
  const base = `/console/people/${person.id}`;
  // Every action for everyone, themselves included: the use cases refuse what may not be (the last owner's demotion, in plain words).
  const actions: Html[] = [dialogButton('Change role', `${base}/role`, { back, describe: nameId })];
  if (person.status === 'active') actions.push(dialogButton('Disable', `${base}/disable`, { back, describe: nameId }));
  if (person.status === 'disabled') actions.push(dialogButton('Enable', `${base}/enable`, { back, describe: nameId }));
  if (person.status === 'active') actions.push(dialogButton('Reset password', `${base}/password-reset`, { back, describe: nameId }));
  if (person.mfa_enabled) actions.push(dialogButton('Reset second factor', `${base}/second-factor-reset`, { back, describe: nameId }));
  actions.push(dialogButton('Delete', `${base}/delete`, { back, danger: true, describe: nameId }));
  return html`<tr>
  <th scope="row" id="${nameId}">${person.name === '' ? html`<span class="muted">(not joined yet)</span>` : person.name}${person.id === self ? html` <span class="muted">(you)</span>` : ''}</th>
  <td>${person.email}</td>
  <td>${person.role}</td>
  <td><span class="badge badge-${STATUS_BADGES[person.status] ?? 'expired'}">${STATUS_WORDS[person.status] ?? person.status}</span>${person.mfa_enabled ? html` <span class="muted">second factor on</span>` : ''}</td>
  <td>${relativeCell(person.last_sign_in_at, now)}</td>
  <td class="actions">${actions}</td>
</tr>`;
}

export function peopleRoutes(deps: PageDeps): Router {
  const { admin, layout } = deps;
  const router = Router();

  router.get('/console/people', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const query = parseInput(listQuery, req.query, 'query');
    const page = await listUsers(admin, actor, { limit: 50, cursor: query.cursor ?? null });
    const now = admin.clock.now();
    res.type('html').send(
      layout({
        title: 'People',
        viewer,
        section: 'people',
        body: html`<div class="page-head">
  <h1>People</h1>
  ${dialogButton('Invite', '/console/people/invite', { primary: true })}
</div>
${notice(query.done)}
<div class="table-wrap"><table>
  <caption class="visually-hidden">People of ${viewer.orgName}</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Last sign-in</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>${page.data.map((person) => personRow(person, now, actor.id, req.originalUrl))}</tbody>
</table></div>
${pager('/console/people', { cursor: query.cursor }, page.nextCursor)}`,
      }),
    );
  });

  const invitePage = (viewer: Viewer, values: { email: string; role: string }, error: FieldError | null) =>
    layout({
      title: 'Invite a person',
      viewer,
      section: 'people',
      body: html`<form method="post" action="/console/people/invite" class="stack narrow">
  <h1>Invite a person</h1>
  <p>You get a one-time link to hand to them; it works once, for a limited time.</p>
  ${formAlert(error)}
  ${csrfField(viewer)}
  ${textField({ name: 'email', label: 'Email', type: 'email', value: values.email, error, attrs: html` autocomplete="off" required` })}
  <div class="field"><label for="role">Role</label><p class="hint" id="role-hint">Viewers read apps, keys and the audit log; editors also change apps and keys; owners also delete them and manage people.</p><select id="role" name="role" aria-describedby="role-hint">${roleOptions(values.role)}</select>${errorText(error, 'role')}</div>
  <div class="buttons"><button type="submit" class="primary">Invite</button> <a href="/console/people" class="button secondary" data-close>Cancel</a></div>
</form>`,
    });

  router.get('/console/people/invite', deps.session, (_req, res) => {
    const { actor, viewer } = signedIn(res);
    // Nothing is read to show the form: the use case's own scope check, so a viewer gets the refusal page, not a form.
    requireActorScope(actor, 'admin.users:full');
    res.type('html').send(invitePage(viewer, { email: '', role: 'viewer' }, null));
  });

  router.post('/console/people/invite', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const form = await readForm(req, res);
    const values = { email: field(form, 'email'), role: field(form, 'role') };
    try {
      const invited = await inviteUser(admin, actor, values);
      res.type('html').send(
        linkOncePage(layout, {
          viewer,
          section: 'people',
          title: `${invited.user.email} is invited`,
          text: 'Hand it to them yourself (the server sends no mail); whoever opens it chooses a name and password and joins as ' + invited.user.role + '.',
          link: { id: 'invitation-link', label: 'Invitation link', url: invited.invitationUrl },
          back: '/console/people',
          backLabel: 'Back to people',
        }),
      );
    } catch (error) {
      const refusal = formRefusal(error, INVITE_FIELDS);
      if (refusal === null) throw error;
      res.status((error as HttpError).status).type('html').send(invitePage(viewer, values, refusal));
    }
  });

  return router;
}
