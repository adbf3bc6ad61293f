// Cross-site request forgery. A browser attaches the session cookie to every request to this
// origin, whoever's page sends it; SameSite=Strict already keeps it off requests from other
// sites, and this is the second line: a session-authenticated request that changes anything
// must come from this origin — `Sec-Fetch-Site: same-origin`, or, from a client that does not
// send that header, an `Origin` equal to the issuer's — and carry the session's CSRF token
// in the `X-CSRF-Token` header (or a `csrf_token` form field), which a page of another site
// cannot read. Bearer-token requests carry no ambient credential and are not checked.
//
// Sign-in and accepting a link have no session yet; they refuse a request a browser marks as
// cross-site, so another site cannot sign a visitor in to its own account (login CSRF).
import type { Request } from 'express';
import type { Csrf } from '../domain/sessions.js';
import { CsrfError } from '../errors.js';
import { FORM_CONTENT_TYPE, formText } from './form-body.js';

export const CSRF_HEADER = 'X-CSRF-Token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function changesState(req: Request): boolean {
  return !SAFE_METHODS.has(req.method);
}

/** The issuer's origin, as browsers write it in `Origin`. */
export function originOf(issuer: string): string {
  return new URL(issuer).origin;
}

function fromThisOrigin(req: Request, origin: string): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  return req.get('origin') === origin;
}

async function formToken(req: Request): Promise<string | undefined> {
  if (!req.is(FORM_CONTENT_TYPE)) return undefined;
  await new Promise<void>((resolve, reject) => formText(req, req.res!, (error?: unknown) => (error === undefined ? resolve() : reject(error))));
  // Not parseForm, which refuses any repeated field (OAuth's rule): a console form repeats
  // its checkboxes (`scope=…&scope=…`). The token itself must appear once.
  const tokens = typeof req.body === 'string' ? new URLSearchParams(req.body).getAll('csrf_token') : [];
  return tokens.length === 1 ? tokens[0] : undefined;
}

/** Throws CsrfError (403 csrf_failed) unless a session-authenticated change passes both checks. */
export async function checkCsrf(req: Request, csrf: Csrf, secret: string, origin: string): Promise<void> {
  if (!fromThisOrigin(req, origin)) {
    throw new CsrfError('a request that changes anything with a session must come from this server\'s own origin (Sec-Fetch-Site: same-origin, or an Origin of ' + origin + ')');
  }
  const given = req.get(CSRF_HEADER) ?? (await formToken(req));
  if (!csrf.matches(secret, given)) {
    throw new CsrfError(`a request that changes anything with a session must carry the session's CSRF token in the ${CSRF_HEADER} header (GET /v1/me shows it)`);
  }
}

/** For sign-in and accepting a link: refuses what a browser marks as sent from another site. */
export function refuseCrossSite(req: Request, origin: string): void {
  const site = req.get('sec-fetch-site');
  const crossSite = site !== undefined ? site !== 'same-origin' && site !== 'none' : req.get('origin') !== undefined && req.get('origin') !== origin;
  if (crossSite) throw new CsrfError(`this request must come from this server's own origin (${origin})`);
}
