// One authentication for the admin API: a bearer token of this server (bearer-auth.ts), or a
// person's session cookie. A request with an Authorization header is a bearer request, with
// or without a cookie, so a script's token is never mistaken for a browser's session. Both
// end in the same Caller — an org, an actor id, scopes — so every admin route authorizes a
// key and a person alike. A session's changes pass the CSRF check (csrf.ts).
import type { RequestHandler } from 'express';
import type { Csrf, SessionAuthority } from '../domain/sessions.js';
import { ForbiddenError, MfaEnrolmentRequiredError, UnauthenticatedError } from '../errors.js';
import { authOf, REALM, type Caller } from './bearer-auth.js';
import { changesState, checkCsrf } from './csrf.js';
import { addLogFields } from './request-logger.js';
import type { SessionCookie } from './session-cookie.js';

export interface AdminAuthDeps {
  /** bearer-auth.ts's authenticate. */
  readonly bearer: RequestHandler;
  readonly sessions: SessionAuthority;
  readonly csrf: Csrf;
  readonly cookie: SessionCookie;
  /** The issuer's origin. */
  readonly origin: string;
}

const enrolmentRequired = () =>
  new MfaEnrolmentRequiredError('your organization requires a second factor: enrol one first (POST /v1/me/mfa, then POST /v1/me/mfa/confirm)');

/**
 * `allowEnrolment`: for the few routes an enrolment-only session may call (GET and PATCH
 * /v1/me, /v1/me/mfa…, signing out); every other route refuses such a session with 403
 * `mfa_enrolment_required`.
 */
export function adminAuthenticate(deps: AdminAuthDeps, options: { allowEnrolment?: boolean } = {}): RequestHandler {
  return async (req, res, next) => {
    if (req.get('authorization') !== undefined) return deps.bearer(req, res, next);
    const secret = deps.cookie.read(req);
    if (secret === undefined) {
      res.set('WWW-Authenticate', `Bearer realm="${REALM}"`);
      throw new UnauthenticatedError('a bearer token from this server, or a session (POST /v1/sessions), is required');
    }
    const session = await deps.sessions(secret);
    if (session === null) {
      deps.cookie.clear(res);
      res.set('WWW-Authenticate', `Bearer realm="${REALM}"`);
      throw new UnauthenticatedError('the session has ended or is not valid; sign in again');
    }
    // Ids only: nothing else about a person goes into a log line.
    addLogFields(res, { actor: session.userId, org_id: session.orgId });
    if (session.restrictedTo !== null && options.allowEnrolment !== true) throw enrolmentRequired();
    if (changesState(req)) await checkCsrf(req, deps.csrf, secret, deps.origin);
    const caller: Caller = { orgId: session.orgId, id: session.userId, scopes: session.scopes, session };
    res.locals.auth = caller;
    next();
  };
}

/** For a person's own routes (/v1/me…, signing out): a key has no session to show or end. */
export const requireSession: RequestHandler = (_req, res, next) => {
  if (authOf(res).session === undefined) throw new ForbiddenError('this route is for a person signed in with a session, not for an API key');
  next();
};

/** For a route under an `allowEnrolment` authentication that an enrolment-only session may not call. */
export const refuseEnrolmentSessions: RequestHandler = (_req, res, next) => {
  if (authOf(res).session?.restrictedTo != null) throw enrolmentRequired();
  next();
};

/** The session of a request that passed requireSession. */
export function sessionOf(res: Parameters<RequestHandler>[1]) {
  const session = authOf(res).session;
  if (session === undefined) throw new Error('requireSession must run before sessionOf()');
  return session;
}
