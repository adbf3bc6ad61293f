// POST /v1/sessions: sign in with an email, a password and, for a person with a second
// factor, `totp` (or `recovery_code`) → 201 { user, csrf_token, expires_at, restricted_to }
// and the session cookie. DELETE /v1/sessions/current: sign out.
import { Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { AdminDeps } from '../domain/actor.js';
import { EMAIL_MAX } from '../domain/emails.js';
import { endMySession } from '../domain/me.js';
import { isPasswordLength, PASSWORD_MAX } from '../domain/passwords.js';
import type { PersonView } from '../domain/people.js';
import type { Csrf } from '../domain/sessions.js';
import type { SignIn } from '../domain/sign-in.js';
import type { SessionRestriction } from '../domain/enrolment-restriction.js';
import { InvalidCredentialsError, InvalidRequestError, MfaRequiredError, ThrottledError, UnavailableError } from '../errors.js';
import { requireSession, sessionOf } from '../http/admin-auth.js';
import { jsonBody, parseInput } from '../http/admin-request.js';
import { refuseCrossSite } from '../http/csrf.js';
import { isoTime, renderPerson } from '../http/render.js';
import { clientIp, noStore } from '../http/request-context.js';
import { addLogFields } from '../http/request-logger.js';
import type { SessionCookie } from '../http/session-cookie.js';

/** Generous bounds in UTF-16 units; the domain counts code points. */
const PASSWORD_INPUT_MAX = PASSWORD_MAX * 4;

export const passwordInput = z.string().min(1, { message: 'expected a password' }).max(PASSWORD_INPUT_MAX, { message: `expected at most ${PASSWORD_MAX} characters` });

export const totpInput = z.string().regex(/^\d{6}$/, { message: 'expected the 6 digits of your authenticator app' });
/** Generous: the domain normalizes (case, hyphens, spaces) and judges. */
export const recoveryCodeInput = z.string().min(1, { message: 'expected one of your recovery codes' }).max(64, { message: 'expected one of your recovery codes' });
export const codesOnlyOne = { message: 'totp, recovery_code: give one of them, not both' };

const signInBody = z
  .strictObject({
    email: z.string().max(EMAIL_MAX, { message: `expected at most ${EMAIL_MAX} characters` }),
    password: passwordInput,
    totp: totpInput.optional(),
    recovery_code: recoveryCodeInput.optional(),
  })
  .refine((body) => body.totp === undefined || body.recovery_code === undefined, codesOnlyOne);

export interface SessionAnswerDeps {
  readonly csrf: Csrf;
  readonly cookie: SessionCookie;
  readonly clock: { now(): number };
}

/**
 * 201 with the new session: its cookie, and `{ user, csrf_token, expires_at, restricted_to }`
 * (`mfa_enrolment` while the person's org requires a second factor they have not enrolled).
 */
export function answerNewSession(res: Response, deps: SessionAnswerDeps, started: { user: PersonView; secret: string; expiresAt: number; restrictedTo: SessionRestriction | null }): void {
  deps.cookie.set(res, started.secret, Math.max(0, started.expiresAt - deps.clock.now()));
  res.status(201).json({
    user: renderPerson(started.user),
    csrf_token: deps.csrf.tokenFor(started.secret),
    expires_at: isoTime(started.expiresAt),
    restricted_to: started.restrictedTo,
  });
}

export function sessionsRoutes(deps: { admin: AdminDeps; auth: RequestHandler; signIn: SignIn; answer: SessionAnswerDeps; origin: string }): Router {
  const router = Router();
  router.use('/v1/sessions', noStore);

  router.post('/v1/sessions', jsonBody(), async (req, res) => {
    refuseCrossSite(req, deps.origin);
    const body = parseInput(signInBody, req.body, 'body');
    if (!isPasswordLength(body.password)) throw new InvalidRequestError(`password: expected at most ${PASSWORD_MAX} characters`);
    const result = await deps.signIn.signIn({
      email: body.email,
      password: body.password,
      ...(body.totp === undefined ? {} : { totp: body.totp }),
      ...(body.recovery_code === undefined ? {} : { recoveryCode: body.recovery_code }),
      ip: clientIp(req),
      userAgent: req.get('user-agent') ?? null,
    });
    if (result.ok) {
      addLogFields(res, { outcome: 'signed_in', actor: result.user.id, org_id: result.user.org_id });
      answerNewSession(res, deps.answer, result);
      return;
    }
    if (result.error === 'invalid_credentials') {
      // The real reason, and whose (ids only), for the log line: never for the caller.
      addLogFields(res, { outcome: 'refused', reason: result.reason, user_id: result.userId, org_id: result.orgId });
      throw new InvalidCredentialsError('the email address or password is not right');
    }
    if (result.error === 'mfa_required') {
      addLogFields(res, { outcome: 'refused', reason: result.reason, user_id: result.userId, org_id: result.orgId });
      throw new MfaRequiredError(
        result.reason === 'mfa_required'
          ? 'this account has a second factor: send the current code of your authenticator app as totp (or a recovery code as recovery_code) with the email and password'
          : 'the second factor is not right: the code is wrong or was used already (each code works once), or the recovery code is not one of your unused ones',
      );
    }
    res.set('Retry-After', String(result.retryAfterSeconds));
    if (result.error === 'throttled') {
      addLogFields(res, { outcome: 'throttled' });
      throw new ThrottledError('too many failed sign-ins from this client; try again later');
    }
    addLogFields(res, { outcome: 'unavailable' });
    throw new UnavailableError('the server is busy; retry in a moment');
  });

  router.delete('/v1/sessions/current', deps.auth, requireSession, async (req, res) => {
    const session = sessionOf(res);
    await endMySession(deps.admin, session, clientIp(req), session.sessionId);
    deps.answer.cookie.clear(res);
    res.status(204).end();
  });

  return router;
}
