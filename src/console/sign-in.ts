// Sign in, sign out. Signing in runs the very sign-in of POST /v1/sessions (one argon2
// verification, the same throttle, the same refusal for every wrong email or password) and
// sets the same cookie; the form is refused when a browser marks it as sent from another
// site, as the API's is (login CSRF).
import { Router, type RequestHandler } from 'express';
import type { AdminDeps } from '../domain/actor.js';
import { endMySession } from '../domain/me.js';
import { isPasswordLength, PASSWORD_MAX } from '../domain/passwords.js';
import type { SignIn } from '../domain/sign-in.js';
import { InvalidRequestError } from '../errors.js';
import { refuseCrossSite } from '../http/csrf.js';
import { clientIp } from '../http/request-context.js';
import { addLogFields } from '../http/request-logger.js';
import type { SessionCookie } from '../http/session-cookie.js';
import { field, fieldError, formAlert, readForm, textField, type FieldError } from './forms.js';
import { html } from './html.js';
import type { Layout } from './layout.js';
import { ENROLMENT_PAGE, safeNext, signedIn } from './session.js';

export interface SignInPageDeps {
  readonly admin: AdminDeps;
  readonly layout: Layout;
  readonly signIn: SignIn;
  readonly cookie: SessionCookie;
  readonly origin: string;
  /** consoleSession. */
  readonly session: RequestHandler;
}

const SIGN_IN_FIELDS = { email: 'email', password: 'password', totp: 'totp', recovery_code: 'recovery_code' };

function signInPage(layout: Layout, next: string, values: { email: string; askCode?: boolean }, error: FieldError | null): string {
  return layout({
    title: 'Sign in',
    viewer: null,
    body: html`<div class="narrow">
<h1>Sign in</h1>
${formAlert(error)}
<form method="post" action="/console/sign-in?next=${encodeURIComponent(next)}" class="stack">
  ${textField({ name: 'email', label: 'Email', type: 'email', value: values.email, error, attrs: html` autocomplete="username" required` })}
  ${textField({ name: 'password', label: 'Password', type: 'password', error, attrs: html` autocomplete="current-password" required` })}
  ${textField({
    name: 'totp',
    label: 'Code',
    hint: 'The 6 digits of your authenticator app, if you turned on a second factor.',
    error,
    attrs: html` inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6"`,
  })}
  ${values.askCode
    ? textField({ name: 'recovery_code', label: 'Recovery code', hint: 'Lost your phone? One of the recovery codes you saved, instead of the code.', error, attrs: html` autocomplete="off" maxlength="64"` })
    : ''}
  <button type="submit" class="primary">Sign in</button>
</form>
</div>`,
  });
}

export function signInRoutes(deps: SignInPageDeps): Router {
  const router = Router();

  router.get('/console/sign-in', (req, res) => {
    res.type('html').send(signInPage(deps.layout, safeNext(req.query['next']), { email: '' }, null));
  });

  router.post('/console/sign-in', async (req, res) => {
    refuseCrossSite(req, deps.origin);
    const next = safeNext(req.query['next']);
    const form = await readForm(req, res);
    const email = field(form, 'email');
    const password = form.get('password') ?? '';
    const totp = field(form, 'totp');
    const recoveryCode = field(form, 'recovery_code');
    const again = (status: number, error: FieldError, askCode = totp !== '' || recoveryCode !== '') =>
      res.status(status).type('html').send(signInPage(deps.layout, next, { email, askCode }, error));
    if (email === '') return again(400, { field: 'email', message: 'Enter your email address.' });
    if (password === '') return again(400, { field: 'password', message: 'Enter your password.' });
    if (!isPasswordLength(password)) return again(400, fieldError(new InvalidRequestError(`password: expected at most ${PASSWORD_MAX} characters`), SIGN_IN_FIELDS));
    if (totp !== '' && !/^\d{6}$/.test(totp)) return again(400, { field: 'totp', message: 'Enter the 6 digits of your authenticator app.' });
    const result = await deps.signIn.signIn({
      email,
      password,
      ...(totp === '' ? {} : { totp }),
      ...(recoveryCode === '' || totp !== '' ? {} : { recoveryCode }),
      ip: clientIp(req),
      userAgent: req.get('user-agent') ?? null,
    });
    if (result.ok) {
      addLogFields(res, { outcome: 'signed_in', actor: result.user.id, org_id: result.user.org_id });
      deps.cookie.set(res, result.secret, Math.max(0, result.expiresAt - deps.admin.clock.now()));
      // An org's require_mfa and no second factor yet: enrolment first.
      return res.redirect(303, result.restrictedTo === null ? next : ENROLMENT_PAGE);
    }
    if (result.error === 'mfa_required') {
      addLogFields(res, { outcome: 'refused', reason: result.reason, user_id: result.userId, org_id: result.orgId });
      const message =
        result.reason === 'mfa_required'
          ? 'Your account has a second factor: enter your password again, with the code your authenticator app shows.'
          : 'The code is not right, or was used already: enter your password again, with the next code your app shows.';
      return again(401, { field: result.reason === 'wrong_recovery_code' ? 'recovery_code' : 'totp', message }, true);
    }
    if (result.error === 'invalid_credentials') {
      addLogFields(res, { outcome: 'refused', reason: result.reason, user_id: result.userId, org_id: result.orgId });
      return again(401, { field: null, message: 'The email address, password or code is not right.' });
    }
    res.set('Retry-After', String(result.retryAfterSeconds));
    addLogFields(res, { outcome: result.error });
    const wait = result.error === 'throttled' ? 'Too many failed sign-ins from here.' : 'The server is busy.';
    return again(result.error === 'throttled' ? 429 : 503, { field: null, message: `${wait} Try again in ${result.retryAfterSeconds} seconds.` });
  });

  router.post('/console/sign-out', deps.session, async (req, res) => {
    const { session } = signedIn(res);
    await endMySession(deps.admin, session, clientIp(req), session.sessionId);
    deps.cookie.clear(res);
    res.redirect(303, '/console/sign-in');
  });

  return router;
}
