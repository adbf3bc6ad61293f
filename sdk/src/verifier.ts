/**
 * `@scope-auth/sdk/verifier` (also `scope-auth/verifier`): verifies scope-auth access tokens
 * offline against the issuer's JWKS and enforces scopes in Express. Depends on jose only
 * (express as types).
 */
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { JWSHeaderParameters, FlattenedJWSInput, JWTPayload } from 'jose';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { TokenVerificationError } from './errors.js';
import { acceptsOrg, NO_ORG, orgNotAccepted, readOrgIdOption } from './org-pin.js';
import type { OrgPin } from './org-pin.js';
import { CANONICAL_COMPACT_JWS, readClaims, REQUIRED_CLAIMS, rethrowKeyError, verificationError } from './token-claims.js';
import type { AccessTokenClaims } from './token-claims.js';
import { readOptions } from './verifier-options.js';
import type { VerifierOptions } from './verifier-options.js';



export { TokenVerificationError } from './errors.js';
export type { TokenVerificationErrorCode } from './errors.js';
export type { OrgIdOption, OrgIdResolver } from './org-pin.js';
export type { AccessTokenClaims } from './token-claims.js';
export type { VerifierErrorHook, VerifierOptions } from './verifier-options.js';

declare global {
  // Declaration merging with Express's own global namespace; it needs `namespace`.
  namespace Express {
    interface Request {
      /** Claims of the verified access token, set by `verifier.require()`. */
      auth?: AccessTokenClaims;
    }
  }
}

/** Per-call options of {@link Verifier.verify}. */
export interface VerifyOptions {
  /**
   * The org id(s) to accept for this call, in place of the verifier's `orgId` (required
   * when that is a function of the request, which `verify()` does not have).
   */
  orgId?: string | readonly string[];
}

/** A configured verifier; see {@link createVerifier}. */
export interface Verifier {
  /**
   * Verifies a compact JWT and returns its claims. `options.orgId` pins the accepted
   * org(s) for this call, in place of the verifier's `orgId`.
   * @throws {TokenVerificationError} with a stable `code` (a token of an org not pinned:
   *   `claim_invalid`, claim `org_id`).
   * @throws {TypeError} when the verifier's `orgId` is a function and no per-call `orgId`
   *   is given, or the per-call `orgId` is not a usable pin.
   *
   * @example
   * ```ts
   * const claims = await verifier.verify(token, { orgId: tenantOf(socket) })
   * ```
   */
  verify(token: string, options?: VerifyOptions): Promise<AccessTokenClaims>;
  /**
   * Express middleware: requires a valid bearer token holding every one of `scopes` and
   * sets `req.auth` to its claims; otherwise answers 401 or 403 per RFC 6750.
   */
  require(...scopes: string[]): RequestHandler;
}

/** RFC 6750 §2.1 b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const SPACE = 0x20;
/** RFC 6749 §A.4 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Creates a verifier for tokens of one scope-auth issuer. Keys come only from the remote
 * JWKS (cached; an unknown `kid` triggers at most one refetch per `cooldownDuration`), so
 * a signing-key rotation on the server needs no restart here. `jku`, `x5u` and embedded
 * `jwk` headers are ignored.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { createVerifier } from 'scope-auth/verifier'
 *
 * const auth = createVerifier({ issuer: 'https://auth.example.com', audience: 'https://api.example.com' })
 * const app = express()
 * app.post('/runs', auth.require('runtime:run'), (req, res) => {
 *   res.json({ org: req.auth?.org_id })
 * })
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const settings = readOptions(options);
  const jwks = createRemoteJWKSet(new URL(settings.jwksUrl), {
    cooldownDuration: settings.cooldownDuration,
    cacheMaxAge: settings.cacheMaxAge,
    timeoutDuration: settings.timeoutDuration,
  });

  // Only the JWKS answers for keys; header fields such as jku, x5u or jwk are never read.
  const getKey = (header: JWSHeaderParameters, token: FlattenedJWSInput) => jwks(header, token).catch(rethrowKeyError);
  // The same for every token (only the current time changes), so built once: this runs on
  // every request of every downstream route.
  const { issuer, audience, algorithms, clockTolerance } = settings;
  const staticPin = typeof settings.orgId === 'function' ? undefined : settings.orgId;
  const resolver = typeof settings.orgId === 'function' ? settings.orgId : undefined;
  const hook = settings.onError;

  /** Tells the `onError` hook of a refusal; `err` is made only when there is a hook to tell. */
  function refused(req: Request, err: TokenVerificationError | (() => TokenVerificationError)): void {
    if (hook === undefined) return;
    try {
      const returned: unknown = hook(typeof err === 'function' ? err() : err, req);
      // An async hook's rejection must not become an unhandled one.
      if (returned instanceof Promise) returned.catch(() => {});
    } catch {
      // The hook observes; a failure of its own must not change the answer.
    }
  }

  function verify(token: string, options?: VerifyOptions): Promise<AccessTokenClaims> {
    if (options?.orgId === undefined && resolver === undefined) return verifyPinned(token, staticPin);
    try {
      const pin = readOrgIdOption(options?.orgId, 'verify()', false) as OrgPin | undefined;
      if (pin === undefined) {
        throw new TypeError('verify(): this verifier\'s `orgId` is a function of the request; pass verify(token, { orgId }) or use require()');
      }
      return verifyPinned(token, pin);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** `pin` undefined checks no org; `NO_ORG` refuses every token. */
  async function verifyPinned(token: string, pin: unknown): Promise<AccessTokenClaims> {
    if (typeof token !== 'string' || token === '') {
      throw new TokenVerificationError('token_malformed', 'The access token is malformed');
    }
    if (token.length > settings.maxTokenLength) {
      throw new TokenVerificationError('token_too_large', 'The access token is too large');
    }
    if (!CANONICAL_COMPACT_JWS.test(token)) {
      throw new TokenVerificationError('token_malformed', 'The access token is malformed');
    }
    const nowMs = settings.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        issuer,
        audience,
        algorithms,
        typ: 'at+jwt',
        clockTolerance,
        requiredClaims: REQUIRED_CLAIMS,
        currentDate: new Date(nowMs),
      }));
    } catch (err) {
      throw verificationError(err);
    }
    const claims = readClaims(payload, nowMs, settings.clockTolerance);
    if (pin !== undefined && !acceptsOrg(pin, claims.org_id)) throw orgNotAccepted();
    return claims;
  }

  /** The pin of this request: a resolver runs per request (and throws to the app's error handler). */
  const pinOf = (req: Request): unknown => (resolver === undefined ? staticPin : (resolver(req) ?? NO_ORG));

  // One verification per request, however many require() guards it passes through: the
  // claims this verifier returns carry a mark of its own, so a later guard of the same
  // verifier finds them in req.auth (claims of a verifier of another issuer are not marked).
  const verified = Symbol('scope-auth verified claims');
  type Marked = AccessTokenClaims & { [verified]?: true };

  function requireScopes(...scopes: string[]): RequestHandler {
    for (const scope of scopes) {
      if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) {
        throw new TypeError(`require(): ${JSON.stringify(scope)} is not a valid scope name`);
      }
    }
    return (req: Request, res: Response, next: NextFunction): void => {
      const known = req.auth as Marked | undefined;
      if (known !== undefined && known[verified] === true) {
        // A later guard may see other route parameters than the one that verified the token.
        if (resolver !== undefined && !acceptsOrg(pinOf(req), known.org_id)) {
          const err = orgNotAccepted();
          refused(req, err);
          challenge(res, 401, settings.realm, { error: 'invalid_token', description: err.message });
          return;
        }
        authorize(req, res, next, known, scopes);
        return;
      }
      const header = req.headers.authorization?.trim();
      if (header === undefined || !/^bearer(\s|$)/i.test(header)) {
        refused(req, () => new TokenVerificationError('token_missing', 'A bearer token is required'));
        challenge(res, 401, settings.realm, undefined, { error: 'unauthorized', description: 'A bearer token is required' });
        return;
      }
      const token = BEARER.exec(header)?.[1];
      if (token === undefined) {
        const description = 'The Authorization header is not a valid Bearer token';
        refused(req, () => new TokenVerificationError('token_malformed', description));
        challenge(res, 401, settings.realm, { error: 'invalid_token', description });
        return;
      }
      verifyPinned(token, pinOf(req)).then(
        (claims) => {
          (claims as Marked)[verified] = true;
          authorize(req, res, next, claims, scopes);
        },
        (err: unknown) => {
          if (err instanceof TokenVerificationError && err.status === 401) {
            refused(req, err);
            challenge(res, 401, settings.realm, { error: 'invalid_token', description: err.message });
          } else {
            if (err instanceof TokenVerificationError) refused(req, err);
            // jwks_unavailable (status 503) or a bug: the app's error handler decides.
            next(err);
          }
        },
      );
    };
  }

  function authorize(req: Request, res: Response, next: NextFunction, claims: AccessTokenClaims, scopes: readonly string[]): void {
    for (const scope of scopes) {
      if (!grants(claims.scope, scope)) {
        const missing = scopes.filter((wanted) => !grants(claims.scope, wanted));
        const description = `The access token lacks the scope ${missing.join(' ')}`;
        refused(req, () => new TokenVerificationError('insufficient_scope', description, { claim: 'scope' }));
        challenge(res, 403, settings.realm, {
          error: 'insufficient_scope',
          description,
          scope: scopes.join(' '),
        });
        return;
      }
    }
    req.auth = claims;
    next();
  }

  return { verify, require: requireScopes };
}

/** Whether the space-separated `granted` list holds `scope` as a whole member (no allocation: this runs per request). */
function grants(granted: string, scope: string): boolean {
  for (let at = granted.indexOf(scope); at !== -1; at = granted.indexOf(scope, at + 1)) {
    const end = at + scope.length;
    if ((at === 0 || granted.charCodeAt(at - 1) === SPACE) && (end === granted.length || granted.charCodeAt(end) === SPACE)) return true;
  }
  return false;
}

interface Challenge {
  error: string;
  description: string;
  scope?: string;
}

/**
 * Writes an RFC 6750 challenge. Without `params` (no credentials were sent) the header
 * carries the realm only, as §3.1 asks; `body` is then the JSON body.
 */
function challenge(
  res: Response,
  status: 401 | 403,
  realm: string,
  params: Challenge | undefined,
  body: Challenge | undefined = params,
): void {
  const parts = [`realm=${quote(realm)}`];
  if (params !== undefined) {
    parts.push(`error=${quote(params.error)}`, `error_description=${quote(params.description)}`);
    if (params.scope !== undefined) parts.push(`scope=${quote(params.scope)}`);
  }
  res.status(status);
  res.set('WWW-Authenticate', `Bearer ${parts.join(', ')}`);
  res.set('Cache-Control', 'no-store');
  res.json(body === undefined ? {} : { error: body.error, error_description: body.description });
}

/** A quoted-string restricted to the characters RFC 6750 §3 allows in its attributes. */
function quote(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '')}"`;
}
