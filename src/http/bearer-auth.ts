// Bearer authentication for the admin API and introspection (RFC 6750): a token of this
// server whose key is still active. The tenant of the request is the token's org_id, and
// its scopes are those of the token that its app still grants. (The admin API also takes a
// person's session instead: admin-auth.ts; both end in the same Caller.)
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { TokenAuthority, TokenVerifier, VerifiedToken } from '../domain/access-tokens.js';
import type { SessionCaller } from '../domain/sessions.js';
import { InsufficientScopeError, UnauthenticatedError } from '../errors.js';
import { addLogFields } from './request-logger.js';

export const REALM = 'scope-auth';

/** Who calls: a key (by its bearer token) or a person (by their session), in one org, with scopes. */
export interface Caller {
  readonly orgId: string;
  /** The key id, or the person's `usr_…` id. */
  readonly id: string;
  readonly scopes: ReadonlySet<string>;
  /** Set when the caller came with a bearer token. */
  readonly token?: VerifiedToken;
  /** Set when the caller came with a person's session. */
  readonly session?: SessionCaller;
}

/** The verified caller, set by `authenticate` (or the admin API's adminAuthenticate). */
export function authOf(res: Response): Caller {
  const auth = res.locals.auth as Caller | undefined;
  if (!auth) throw new Error('authenticate() must run before authOf()');
  return auth;
}

function bearerToken(req: Request): string | null | undefined {
  const header = req.get('authorization');
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
  return match ? match[1]! : null;
}

export function authenticate(deps: { verify: TokenVerifier; authority: TokenAuthority }): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req);
    if (token === undefined) {
      res.set('WWW-Authenticate', `Bearer realm="${REALM}"`);
      throw new UnauthenticatedError('a bearer token from this server is required');
    }
    const verified = token === null ? null : await deps.verify(token);
    const current = verified === null ? null : await deps.authority(verified);
    // The request's log line names the caller whenever a token of this server was verified,
    // also when its key no longer acts (revoked, deleted, its org disabled).
    if (verified !== null) addLogFields(res, { actor: verified.claims.client_id, org_id: verified.claims.org_id });
    if (current === null) {
      res.set('WWW-Authenticate', `Bearer realm="${REALM}", error="invalid_token", error_description="the access token is invalid, expired or revoked"`);
      throw new UnauthenticatedError('the access token is invalid, expired or revoked');
    }
    const caller: Caller = { orgId: current.claims.org_id, id: current.claims.client_id, scopes: current.scopes, token: current };
    res.locals.auth = caller;
    next();
  };
}

/** 403 naming the scope when the caller's token lacks it. */
export function requireScope(scope: string): RequestHandler {
  return (_req, res, next) => {
    if (!authOf(res).scopes.has(scope)) {
      res.set('WWW-Authenticate', `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"`);
      throw new InsufficientScopeError(`this action requires the scope ${scope}`, { extra: { required_scope: scope } });
    }
    next();
  };
}

/** 403 unless the token holds at least one of `scopes` (e.g. "any admin scope"). */
export function requireAnyScope(scopes: readonly string[]): RequestHandler {
  return (_req, res, next) => {
    const held = authOf(res).scopes;
    if (!scopes.some((s) => held.has(s))) {
      res.set('WWW-Authenticate', `Bearer realm="${REALM}", error="insufficient_scope", scope="${scopes.join(' ')}"`);
      throw new InsufficientScopeError(`this action requires one of the scopes ${scopes.join(', ')}`, {
        extra: { required_scope: scopes.join(' ') },
      });
    }
    next();
  };
}
