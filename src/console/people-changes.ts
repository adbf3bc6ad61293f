// What an owner changes about one person, each on a confirmation page of its own (console.js
// opens it as a dialog from the row's button): the role, disabling and enabling, a
// password-reset link (shown once), resetting the second factor, deleting. The use cases of PATCH /v1/users/{id}, its
// password-reset, DELETE /v1/users/{id}/mfa and DELETE; a refusal (the last owner, a person not joined yet) is shown
// on the confirmation in plain words.
import { Router } from 'express';
import { z } from 'zod';
import { deleteUser, getUser, issuePasswordReset, updateUser, type PersonView } from '../domain/people.js';
import { resetSecondFactor } from '../domain/second-factor.js';
import { HttpError } from '../errors.js';
import { idParam, parseInput } from '../http/admin-request.js';
import { formRefusal } from './app-pages.js';
import { errorText, field, formAlert, readForm, type FieldError } from './forms.js';
import { html, type Html } from './html.js';
import type { PageDeps } from './index.js';
import { csrfField, type Viewer } from './layout.js';
import { linkOncePage } from './link-once.js';
import { backTo, doneUrl } from './parts.js';
import { roleOptions } from './people.js';
import { signedIn } from './session.js';

const personPath = z.object({ user_id: idParam('user', 'a person') });
const ACTIONS = ['role', 'disable', 'enable', 'password-reset', 'second-factor-reset', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

const who = (person: PersonView) => (person.name === '' ? person.email : `${person.name} (${person.email})`);

function titleOf(action: Action, person: PersonView): string {
  const name = person.name === '' ? person.email : person.name;
  return {
    role: `Change the role of ${name}`,
    disable: `Disable ${name}?`,
    enable: `Enable ${name}?`,
    'password-reset': `Reset the password of ${name}?`,
    'second-factor-reset': `Reset the second factor of ${name}?`,
    delete: `Delete ${name}?`,
  }[action];
}

const BUTTONS: Readonly<Record<Action, string>> = { role: 'Change role', disable: 'Disable', enable: 'Enable', 'password-reset': 'Reset password', 'second-factor-reset': 'Reset second factor', delete: 'Delete person' };

function explanation(action: Action, person: PersonView, role: string, error: FieldError | null): Html {
  switch (action) {
    case 'role':
      return html`<p>${who(person)} is signed out everywhere, and has the new role's rights at their next sign-in.</p>
<div class="field"><label for="role">Role</label><select id="role" name="role">${roleOptions(role)}</select>${errorText(error, 'role')}</div>`;
    case 'disable':
      return html`<p class="warning">${who(person)} is signed out everywhere at once and cannot sign in until enabled again.</p>`;
    case 'enable':
      return html`<p>${who(person)} can sign in again with their password.</p>`;
    case 'password-reset':
      return html`<p class="warning">${who(person)} is signed out everywhere at once. You get a one-time link to hand to them, with which they choose a new password.</p>`;
    case 'second-factor-reset':
      return html`<p class="warning">For someone who lost their phone and their recovery codes: ${who(person)} signs in with their password alone until they set up a new one (where your organization requires one, they must set it up first).</p>`;
    case 'delete':
      return html`<p class="warning">${who(person)} is signed out everywhere and deleted for good; the audit log keeps what they did.</p>`;
  }
}

export function peopleChangeRoutes(deps: PageDeps): Router {
  const { admin, layout } = deps;
  const router = Router();

  const confirmPage = (viewer: Viewer, person: PersonView, action: Action, back: string, role: string, error: FieldError | null) =>
    layout({
      title: titleOf(action, person),
      viewer,
      section: 'people',
      body: html`<form method="post" action="/console/people/${person.id}/${action}" class="stack narrow">
  <h1>${titleOf(action, person)}</h1>
  ${formAlert(error)}
  ${csrfField(viewer)}<input type="hidden" name="back" value="${back}">
  ${explanation(action, person, role, error)}
  <div class="buttons"><button type="submit" class="${action === 'delete' || action === 'disable' ? 'danger' : 'primary'}">${BUTTONS[action]}</button> <a href="${back}" class="button secondary" data-close>Cancel</a></div>
</form>`,
    });

  for (const action of ACTIONS) {
    router.get(`/console/people/:user_id/${action}`, deps.session, async (req, res) => {
      const { actor, viewer } = signedIn(res);
      const { user_id } = parseInput(personPath, req.params, 'path');
      const person = await getUser(admin, actor, { userId: user_id });
      res.type('html').send(confirmPage(viewer, person, action, backTo(req.query['back'], '/console/people'), person.role, null));
    });

    router.post(`/console/people/:user_id/${action}`, deps.session, async (req, res) => {
      const { actor, viewer } = signedIn(res);
      const { user_id } = parseInput(personPath, req.params, 'path');
      const form = await readForm(req, res);
      const back = backTo(form.get('back'), '/console/people');
      const role = field(form, 'role');
      const person = await getUser(admin, actor, { userId: user_id });
      try {
        if (action === 'password-reset') {
          const issued = await issuePasswordReset(admin, actor, { userId: person.id });
          return res.type('html').send(
            linkOncePage(layout, {
              viewer,
              section: 'people',
              title: `A password-reset link for ${person.email}`,
              text: 'Hand it to them yourself (the server sends no mail); it works once, for a limited time.',
              link: { id: 'reset-link', label: 'Password-reset link', url: issued.resetUrl },
              back,
              backLabel: 'Back to people',
            }),
          );
        }
        if (action === 'second-factor-reset') {
          await resetSecondFactor(admin, actor, { userId: person.id });
          return res.redirect(303, doneUrl(back, 'second-factor-reset'));
        }
        if (action === 'delete') {
          await deleteUser(admin, actor, { userId: person.id });
          return res.redirect(303, doneUrl(back, 'person-deleted'));
        }
        const change = action === 'role' ? { role } : { status: action === 'disable' ? 'disabled' : 'active' };
        await updateUser(admin, actor, { userId: person.id, ...change });
        res.redirect(303, doneUrl(back, action === 'role' ? 'role-changed' : action === 'disable' ? 'person-disabled' : 'person-enabled'));
      } catch (error) {
        const refusal = formRefusal(error, { role: 'role' });
        if (refusal === null) throw error;
        res.status((error as HttpError).status).type('html').send(confirmPage(viewer, person, action, back, role === '' ? person.role : role, refusal));
      }
    });
  }

  return router;
}
