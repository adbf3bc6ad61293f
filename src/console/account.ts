// My account: the signed-in person's name, their password (the current one checked as
// PATCH /v1/me checks it: counted by the sign-in throttle), and their sessions, each with
// "Sign out", and "Sign out everywhere" (every other session). The same use cases as /v1/me.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AdminDeps } from '../domain/actor.js';
import { endMyOtherSessions, endMySession, getMe, listMySessions, updateMe, type SessionView } from '../domain/me.js';
import type { SignIn } from '../domain/sign-in.js';
import { HttpError } from '../errors.js';
import { idParam, parseInput } from '../http/admin-request.js';
import { clientIp } from '../http/request-context.js';
import type { SessionCookie } from '../http/session-cookie.js';
import { formRefusal } from './app-pages.js';
import { dateCell, relativeCell } from './format.js';
import { field, fieldError, formAlert, readForm, textField, type FieldError } from './forms.js';
import { html, type Html } from './html.js';
import { csrfField, type Layout, type Viewer } from './layout.js';
import { notice, pager } from './parts.js';
import { signedIn, type SignedIn } from './session.js';

export interface AccountPageDeps {
  readonly admin: AdminDeps;
  readonly layout: Layout;
  readonly session: RequestHandler;
  readonly signIn: Pick<SignIn, 'verifyCurrentPassword'>;
  readonly cookie: SessionCookie;
}

const FIELDS = { name: 'name', current_password: 'current_password', new_password: 'new_password' };
const accountQuery = z.object({ cursor: z.string().max(200).optional(), done: z.string().max(40).optional() });
const sessionPath = z.object({ session_id: idParam('session', 'a session') });

type Form = 'name' | 'password';

function sessionRow(session: SessionView, now: number, viewer: Viewer): Html {
  const label = `session-${session.id}`;
  return html`<tr>
  <th scope="row" id="${label}">${session.user_agent ?? 'Unknown browser'}${session.current ? html` <span class="badge badge-active">This session</span>` : ''}</th>
  <td>${session.ip ?? '—'}</td>
  <td>${dateCell(session.created_at)}</td>
  <td>${relativeCell(session.last_seen_at, now)}</td>
  <td>${dateCell(session.expires_at)}</td>
  <td class="actions"><form method="post" action="/console/account/sessions/${session.id}/sign-out" class="inline">${csrfField(viewer)}<button type="submit" class="secondary" aria-describedby="${label}">Sign out</button></form></td>
</tr>`;
}

export function accountRoutes(deps: AccountPageDeps): Router {
  const { admin, layout } = deps;
  const router = Router();

  async function accountPage(req: Parameters<RequestHandler>[0], who: SignedIn, failed: { form: Form; error: FieldError; name?: string } | null): Promise<string> {
    const { session, viewer } = who;
    const query = parseInput(accountQuery, req.query, 'query');
    const [me, sessions] = await Promise.all([
      getMe(admin, session),
      listMySessions(admin, session, { limit: 50, cursor: query.cursor ?? null }),
    ]);
    const errorOf = (form: Form) => (failed?.form === form ? failed.error : null);
    const now = admin.clock.now();
    return layout({
      title: 'My account',
      viewer,
      section: 'account',
      body: html`<h1>My account</h1>
${notice(query.done)}
<dl class="facts"><dt>Email</dt><dd>${me.user.email}</dd><dt>Role</dt><dd>${me.role}</dd><dt>Organization</dt><dd>${me.org.name}</dd></dl>
<section aria-labelledby="name-title" class="stack">
  <h2 id="name-title">Name</h2>
  ${formAlert(errorOf('name'))}
  <form method="post" action="/console/account/name" class="stack">
    ${csrfField(viewer)}
    ${textField({ name: 'name', label: 'Name', value: failed?.name ?? me.user.name, error: errorOf('name'), attrs: html` autocomplete="name" required maxlength="100"` })}
    <button type="submit" class="primary">Save name</button>
  </form>
</section>
<section aria-labelledby="password-title" class="stack">
  <h2 id="password-title">Password</h2>
  <p>Changing it signs you out everywhere else.</p>
  ${formAlert(errorOf('password'))}
  <form method="post" action="/console/account/password" class="stack">
    ${csrfField(viewer)}<input type="hidden" name="username" value="${me.user.email}" autocomplete="username">
    ${textField({ name: 'current_password', label: 'Current password', type: 'password', error: errorOf('password'), attrs: html` autocomplete="current-password" required` })}
    ${textField({ name: 'new_password', label: 'New password', type: 'password', hint: 'At least 15 characters: a few words you will remember.', error: errorOf('password'), attrs: html` autocomplete="new-password" required` })}
    ${textField({ name: 'new_password_repeat', label: 'Repeat new password', type: 'password', error: errorOf('password'), attrs: html` autocomplete="new-password" required` })}
    <button type="submit" class="primary">Change password</button>
  </form>
</section>
<section aria-labelledby="second-factor-title">
  <h2 id="second-factor-title">Second factor</h2>
  <p>${me.user.mfa_enabled ? 'On: signing in asks for a code of your authenticator app.' : 'Off: signing in asks for your password only.'} <a href="/console/second-factor">${me.user.mfa_enabled ? 'Manage the second factor' : 'Set up a second factor'}</a></p>
</section>
<section aria-labelledby="sessions-title">
  <div class="page-head"><h2 id="sessions-title">Sessions</h2>
  <form method="post" action="/console/account/sessions/sign-out-others" class="inline">${csrfField(viewer)}<button type="submit" class="danger" aria-describedby="sign-out-others-hint">Sign out everywhere</button></form></div>
  <p class="hint" id="sign-out-others-hint">Ends every session but this one: other browsers and devices must sign in again.</p>
  <div class="table-wrap"><table>
    <caption class="visually-hidden">Your open sessions</caption>
    <thead><tr><th scope="col">Browser</th><th scope="col">IP</th><th scope="col">Signed in</th><th scope="col">Last active</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
    <tbody>${sessions.data.map((s) => sessionRow(s, now, viewer))}</tbody>
  </table></div>
  ${pager('/console/account', { cursor: query.cursor }, sessions.nextCursor)}
</section>`,
    });
  }

  router.get('/console/account', deps.session, async (req, res) => {
    res.type('html').send(await accountPage(req, signedIn(res), null));
  });

  router.post('/console/account/:form', deps.session, async (req, res, next) => {
    const form = req.params['form'];
    if (form !== 'name' && form !== 'password') return next();
    const who = signedIn(res);
    const body = await readForm(req, res);
    const name = field(body, 'name');
    const again = async (status: number, error: FieldError) => res.status(status).type('html').send(await accountPage(req, who, { form, error, name }));
    try {
      if (form === 'name') {
        await updateMe(admin, deps.signIn.verifyCurrentPassword, who.session, clientIp(req), { name });
        return res.redirect(303, '/console/account?done=name-saved');
      }
      const newPassword = body.get('new_password') ?? '';
      if (newPassword !== (body.get('new_password_repeat') ?? '')) {
        return again(400, { field: 'new_password_repeat', message: 'The two new passwords differ: type the same one twice.' });
      }
      await updateMe(admin, deps.signIn.verifyCurrentPassword, who.session, clientIp(req), { currentPassword: body.get('current_password') ?? '', newPassword });
      res.redirect(303, '/console/account?done=password-changed');
    } catch (error) {
      // Too many wrong current passwords (the sign-in throttle) is said at the form's top.
      const refusal = formRefusal(error, FIELDS) ?? (error instanceof HttpError && error.status === 429 ? fieldError(error, {}) : null);
      if (refusal === null) throw error;
      return again((error as HttpError).status, refusal);
    }
  });

  router.post('/console/account/sessions/sign-out-others', deps.session, async (req, res) => {
    const { session } = signedIn(res);
    await endMyOtherSessions(admin, session, clientIp(req));
    res.redirect(303, '/console/account?done=signed-out-elsewhere');
  });

  router.post('/console/account/sessions/:session_id/sign-out', deps.session, async (req, res) => {
    const { session } = signedIn(res);
    const { session_id } = parseInput(sessionPath, req.params, 'path');
    await endMySession(admin, session, clientIp(req), session_id);
    if (session_id !== session.sessionId) return res.redirect(303, '/console/account?done=session-ended');
    deps.cookie.clear(res);
    res.redirect(303, '/console/sign-in');
  });

  return router;
}
