// The second factor (TOTP) of the signed-in person, at one URL whatever its state: off ("Set
// up"), pending (the QR code, made here as a data: image, and the secret as text; "Code" to
// confirm), on (recovery codes left, "Turn off" with a current code or a recovery code).
// Confirming answers the recovery codes once, on the POST's own page. The use cases of
// /v1/me/mfa; open to an enrolment-only session, which every other page sends here.
import { Router, type RequestHandler } from 'express';
import QRCode from 'qrcode';
import type { AdminDeps } from '../domain/actor.js';
import { getMe } from '../domain/me.js';
import { confirmEnrolment, removeMySecondFactor, secondFactorStatus, startEnrolment, type SecondFactorDeps, type VerifySecondFactor } from '../domain/second-factor.js';
import { pendingEnrolment } from '../domain/second-factor-pending.js';
import { HttpError } from '../errors.js';
import { clientIp } from '../http/request-context.js';
import { formRefusal } from './app-pages.js';
import { dateCell } from './format.js';
import { field, formAlert, readForm, textField, type FieldError } from './forms.js';
import { html, type Html } from './html.js';
import { csrfField, type Layout, type Viewer } from './layout.js';
import { signedIn, type SignedIn } from './session.js';

export interface SecondFactorPageDeps {
  readonly admin: AdminDeps;
  readonly layout: Layout;
  /** consoleSession over the enrolment-only authentication. */
  readonly session: RequestHandler;
  readonly secondFactor: SecondFactorDeps;
  readonly verifySecondFactor: VerifySecondFactor;
}

const PATH = '/console/second-factor';
const codeAttrs = html` inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6"`;

export function secondFactorRoutes(deps: SecondFactorPageDeps): Router {
  const { layout } = deps;
  const router = Router();

  const page = (viewer: Viewer, body: Html) => layout({ title: 'Second factor', viewer, section: 'account', body: html`<h1>Second factor</h1>${body}` });

  async function statePage(who: SignedIn, error: FieldError | null): Promise<string> {
    const { session, viewer } = who;
    const [status, pending, me] = await Promise.all([secondFactorStatus(deps.secondFactor, session), pendingEnrolment(deps.secondFactor, session), getMe(deps.admin, session)]);
    const required = session.restrictedTo !== null;
    const intro = required
      ? html`<p class="warning" role="status"><strong>${me.org.name} requires a second factor.</strong> Set one up to go on: until then this is the only page you can use.</p>`
      : html``;
    if (status.enabled) {
      return page(viewer, html`<p>Your second factor is on since ${dateCell(status.enabledAt)}: signing in asks for a code of your authenticator app. ${status.recoveryCodesRemaining} of your recovery codes are left.</p>
<section aria-labelledby="off-title" class="stack narrow">
  <h2 id="off-title">Turn off</h2>
  <p>Give a current code of your authenticator app, or one of your recovery codes.</p>
  ${formAlert(error)}
  <form method="post" action="${PATH}/remove" class="stack">${csrfField(viewer)}
    ${textField({ name: 'totp', label: 'Code', error, attrs: codeAttrs })}
    ${textField({ name: 'recovery_code', label: 'Recovery code', error, attrs: html` autocomplete="off" maxlength="64"` })}
    <button type="submit" class="danger">Turn off</button>
  </form>
</section>
<p><a href="/console/account">Back to my account</a></p>`);
    }
    if (pending !== null) {
      const qr = await QRCode.toDataURL(pending.otpauthUri, { margin: 1, width: 240 });
      return page(viewer, html`${intro}
<ol class="stack">
  <li><p>Scan this QR code with your authenticator app (or type the secret in).</p>
    <img src="${qr}" width="240" height="240" alt="QR code of the secret for your authenticator app">
    <div><span class="copy-label" id="totp-secret-label">Secret</span><div class="copy-row"><output id="totp-secret" aria-labelledby="totp-secret-label">${pending.secret}</output><button type="button" class="secondary" data-copy="totp-secret" aria-label="Copy Secret" hidden>Copy</button></div></div></li>
  <li><p>Enter the 6 digits your app shows for scope-auth.</p>
    ${formAlert(error)}
    <form method="post" action="${PATH}/confirm" class="stack narrow">${csrfField(viewer)}
      ${textField({ name: 'code', label: 'Code', error, attrs: html`${codeAttrs} required` })}
      <button type="submit" class="primary">Turn on</button>
    </form></li>
</ol>
<form method="post" action="${PATH}/remove">${csrfField(viewer)}<button type="submit" class="link-button">Cancel the set-up</button></form>`);
    }
    return page(viewer, html`${intro}
<p>A second factor is a code from an authenticator app on your phone, asked for at every sign-in after your password: someone who learns your password cannot sign in with it alone.</p>
${formAlert(error)}
<form method="post" action="${PATH}/start">${csrfField(viewer)}<button type="submit" class="primary">Set up a second factor</button></form>
${required ? '' : html`<p><a href="/console/account">Back to my account</a></p>`}`);
  }

  router.get(PATH, deps.session, async (_req, res) => {
    res.type('html').send(await statePage(signedIn(res), null));
  });

  router.post(`${PATH}/:action`, deps.session, async (req, res, next) => {
    const action = req.params['action'];
    if (action !== 'start' && action !== 'confirm' && action !== 'remove') return next();
    const who = signedIn(res);
    const form = await readForm(req, res);
    try {
      if (action === 'start') {
        await startEnrolment(deps.secondFactor, who.session);
        return res.redirect(303, PATH);
      }
      if (action === 'remove') {
        const totp = field(form, 'totp');
        const recovery = field(form, 'recovery_code');
        await removeMySecondFactor(deps.secondFactor, deps.verifySecondFactor, who.session, clientIp(req), {
          ...(totp === '' ? {} : { totp }),
          ...(recovery === '' ? {} : { recoveryCode: recovery }),
        });
        return res.redirect(303, PATH);
      }
      const confirmed = await confirmEnrolment(deps.secondFactor, who.session, clientIp(req), field(form, 'code'));
      res.type('html').send(
        page(who.viewer, html`<p class="notice" role="status">Your second factor is on: signing in asks for a code of your authenticator app from now on.</p>
<h2 id="recovery-codes-title">Your recovery codes</h2>
<p class="warning" id="recovery-warning"><strong>Save these now: they will not be shown again.</strong> Each works once, instead of a code, if you lose your phone.</p>
<div class="copy-row"><pre id="recovery-codes" data-secret aria-labelledby="recovery-codes-title" aria-describedby="recovery-warning">${confirmed.recoveryCodes.join('\n')}</pre><button type="button" class="secondary" data-copy="recovery-codes" aria-label="Copy recovery codes" hidden>Copy</button></div>
<p><a href="/console/apps" class="button primary">Done</a></p>`),
      );
    } catch (error) {
      const refusal = formRefusal(error, { code: 'code', totp: 'totp', recovery_code: 'recovery_code' }) ?? (error instanceof HttpError && error.status === 429 ? formRefusal(error, {}) : null);
      if (refusal === null) throw error;
      res.status((error as HttpError).status).type('html').send(await statePage(who, refusal));
    }
  });

  return router;
}
