// Who is looking at a console page. The request goes through the admin API's own
// authentication (http/admin-auth.ts: the session cookie, and the CSRF check on every POST),
// so a page acts as the same Actor, with the same scopes, as the API would for this person;
// the use cases it calls check those scopes. Not signed in (or the session has ended): a
// redirect to the sign-in page, which sends the person back here afterwards.
import type { Request, RequestHandler, Response } from 'express';
import type { Actor, AdminDeps } from '../domain/actor.js';
import { getMe } from '../domain/me.js';
import type { SessionCaller } from '../domain/sessions.js';
import type { Csrf } from '../domain/sessions.js';
import { MfaEnrolmentRequiredError, UnauthenticatedError } from '../errors.js';
import { adminActor } from '../http/admin-request.js';
import { authOf } from '../http/bearer-auth.js';
import type { SessionCookie } from '../http/session-cookie.js';
import type { Viewer } from './layout.js';

/** Where an enrolment-only session is sent. */
export const ENROLMENT_PAGE = '/console/second-factor';

export interface SignedIn {
  readonly actor: Actor;
  readonly session: SessionCaller;
  readonly viewer: Viewer;
}

/** Only a relative path of the console itself: `next` must not send anybody elsewhere. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/console') || next.startsWith('//')) return '/console/apps';
  try {
    const url = new URL(next, 'http://console.invalid');
    if (url.origin !== 'http://console.invalid' || !url.pathname.startsWith('/console')) return '/console/apps';
    if (url.pathname.startsWith('/console/sign-in')) return '/console/apps';
    return url.pathname + url.search;
  } catch {
    return '/console/apps';
  }
}

export function signInRedirect(req: Request, res: Response): void {
  const next = req.method === 'GET' ? safeNext(req.originalUrl) : '/console/apps';
  res.redirect(303, `/console/sign-in?next=${encodeURIComponent(next)}`);
}

export function consoleSession(deps: { admin: AdminDeps; adminAuth: RequestHandler; cookie: SessionCookie; csrf: Csrf }): RequestHandler {
  return async (req, res, next) => {
    if (deps.cookie.read(req) === undefined) return signInRedirect(req, res);
    let passed = false;
    try {
      // A page is a person's: a bearer token opens the API, not the console.
      delete req.headers.authorization;
      await deps.adminAuth(req, res, (error?: unknown) => {
        if (error !== undefined) throw error;
        passed = true;
      });
    } catch (error) {
      if (error instanceof UnauthenticatedError) return signInRedirect(req, res);
      // An org's require_mfa, and no second factor yet: enrolment first (a page behind the enrolment-only authentication).
      if (error instanceof MfaEnrolmentRequiredError) return res.redirect(303, ENROLMENT_PAGE);
      throw error;
    }
    if (!passed) return;
    const caller = authOf(res);
    const session = caller.session!;
    const me = await getMe(deps.admin, session);
    const viewer: Viewer = { name: me.user.name, role: me.role, orgName: me.org.name, scopes: caller.scopes, csrf: deps.csrf.tokenFor(session.secret) };
    res.locals.console = { actor: adminActor(req, res), session, viewer } satisfies SignedIn;
    next();
  };
}

/** The person of a page behind consoleSession. */
export function signedIn(res: Response): SignedIn {
  const found = res.locals.console as SignedIn | undefined;
  if (found === undefined) throw new Error('consoleSession must run before signedIn()');
  return found;
}
