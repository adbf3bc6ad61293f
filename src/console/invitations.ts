// The one-time links people are handed: an invitation (`/console/invitations/<token>`: name
// and password, and the email for the first start's owner link, which names none) and a
// password reset (`/console/password-reset/<token>`: a new password). Both run the use case
// of POST /v1/invitations/{token}, which signs the person in. The token is in the path, so
// these pages send no referrer (headers.ts) and the request log redacts it.
import { Router } from 'express';
import type { AdminDeps } from '../domain/actor.js';
import { acceptLink, readLink, type LinkInfo } from '../domain/invitations.js';
import { HttpError } from '../errors.js';
import { refuseCrossSite } from '../http/csrf.js';
import { clientIp } from '../http/request-context.js';
import { addLogFields } from '../http/request-logger.js';
import type { SessionCookie } from '../http/session-cookie.js';
import { field, fieldError, formAlert, readForm, textField, type FieldError } from './forms.js';
import { html } from './html.js';
import type { Layout } from './layout.js';
import { ENROLMENT_PAGE } from './session.js';

const FIELDS = { name: 'name', password: 'password', email: 'email' };
const PATHS = { invitation: '/console/invitations/', password_reset: '/console/password-reset/' } as const;

interface Values {
  readonly name: string;
  readonly email: string;
}

function linkPage(layout: Layout, token: string, link: LinkInfo, values: Values, error: FieldError | null): string {
  const invitation = link.purpose === 'invitation';
  const action = `${PATHS[link.purpose]}${encodeURIComponent(token)}`;
  const password = { autocomplete: 'new-password', hint: 'At least 15 characters: a few words you will remember.' };
  return layout({
    title: invitation ? 'Accept invitation' : 'Choose a new password',
    viewer: null,
    body: html`<div class="narrow">
<h1>${invitation ? 'Accept invitation' : 'Choose a new password'}</h1>
<dl class="facts">
  ${link.email === null ? '' : html`<dt>Email</dt><dd>${link.email}</dd>`}
  <dt>Organization</dt><dd>${link.orgName}</dd>
  <dt>Role</dt><dd>${link.role}</dd>
</dl>
${formAlert(error)}
<form method="post" action="${action}" class="stack">
  ${link.email === null ? textField({ name: 'email', label: 'Email', type: 'email', value: values.email, error, attrs: html` autocomplete="username" required` }) : html`<input type="hidden" name="username" value="${link.email}" autocomplete="username">`}
  ${invitation ? textField({ name: 'name', label: 'Name', value: values.name, error, attrs: html` autocomplete="name" required maxlength="100"` }) : ''}
  ${textField({ name: 'password', label: invitation ? 'Password' : 'New password', type: 'password', hint: password.hint, error, attrs: html` autocomplete="${password.autocomplete}" required` })}
  ${textField({ name: 'password_repeat', label: 'Repeat password', type: 'password', error, attrs: html` autocomplete="new-password" required` })}
  <button type="submit" class="primary">${invitation ? 'Join' : 'Set password'}</button>
</form>
</div>`,
  });
}

export function invitationRoutes(deps: { admin: AdminDeps; layout: Layout; cookie: SessionCookie; origin: string }): Router {
  const router = Router();
  for (const purpose of ['invitation', 'password_reset'] as const) {
    const path = `${PATHS[purpose]}:token`;

    router.get(path, async (req, res) => {
      const token = String(req.params['token'] ?? '');
      const link = await readLink(deps.admin, token);
      // A reset token under the invitation's path, or the reverse, is no link of this page.
      if (link.purpose !== purpose) return res.redirect(303, `${PATHS[link.purpose]}${encodeURIComponent(token)}`);
      res.type('html').send(linkPage(deps.layout, token, link, { name: '', email: '' }, null));
    });

    router.post(path, async (req, res) => {
      refuseCrossSite(req, deps.origin);
      const token = String(req.params['token'] ?? '');
      const link = await readLink(deps.admin, token);
      const form = await readForm(req, res);
      const values = { name: field(form, 'name'), email: field(form, 'email') };
      const password = form.get('password') ?? '';
      const again = (status: number, error: FieldError) => res.status(status).type('html').send(linkPage(deps.layout, token, link, values, error));
      if (password !== (form.get('password_repeat') ?? '')) return again(400, { field: 'password_repeat', message: 'The two passwords differ: type the same one twice.' });
      try {
        const accepted = await acceptLink(
          deps.admin,
          token,
          {
            password,
            ...(link.purpose === 'invitation' ? { name: values.name } : {}),
            ...(link.email === null ? { email: values.email } : {}),
          },
          { ip: clientIp(req), userAgent: req.get('user-agent') ?? null },
        );
        addLogFields(res, { outcome: accepted.purpose === 'invitation' ? 'joined' : 'password_reset', actor: accepted.user.id, org_id: accepted.user.org_id });
        // A reset of a person with a second factor starts no session: they sign in with the new password and a code.
        if (accepted.session === null) return res.redirect(303, '/console/sign-in');
        deps.cookie.set(res, accepted.session.secret, Math.max(0, accepted.session.expiresAt - deps.admin.clock.now()));
        res.redirect(303, accepted.session.restrictedTo === null ? '/console/apps' : ENROLMENT_PAGE);
      } catch (error) {
        if (error instanceof HttpError && error.status < 500 && error.status !== 404) return again(error.status, fieldError(error, FIELDS));
        throw error;
      }
    });
  }
  return router;
}
