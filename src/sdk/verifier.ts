/**
 * `scope-auth/verifier`: verifies scope-auth access tokens offline against the issuer's
 * JWKS and enforces scopes in Express. Depends on jose only (express as types).
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import type { JWSHeaderParameters, FlattenedJWSInput, JWTPayload } from 'jose';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { TokenVerificationError } from './errors.js';
import { acceptsOrg, NO_ORG, orgNotAccepted, readOrgIdOption } from './org-pin.js';
import type { OrgIdOption, OrgIdResolver, OrgPin } from './org-pin.js';

export { TokenVerificationError } from './errors.js';
export type { TokenVerificationErrorCode } from './errors.js';
export type { OrgIdOption, OrgIdResolver } from './org-pin.js';

/** Claims of a scope-auth access token (RFC 9068), as `verify()` returns them. */
export interface AccessTokenClaims {
  /** The issuer, equal to the verifier's `issuer`. */
  iss: string;
  /** The API key id `key_…` the token was issued to (same as `client_id`). */
  sub: string;
  /** The API key id `key_…`. */
  client_id: string;
  aud: string | string[];
  /** Issued at, epoch seconds. */
  iat: number;
  /** Expires at, epoch seconds. */
  exp: number;
  nbf?: number;
  /** Unique token id. */
  jti: string;
  /** Granted scopes, expanded, sorted and space-separated (may be empty). */
  scope: string;
  /** Organization (tenant) id `org_…`. */
  org_id: string;
  /** App id `app_…`. */
  app_id: string;
}

declare global {
  // Declaration merging with Express's own global namespace; it needs `namespace`.
  namespace Express {
    interface Request {
      /** Claims of the verified access token, set by `verifier.require()`. */
      auth?: AccessTokenClaims;
    }
  }
}

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  /** The scope-auth server's `SCOPE_AUTH_ISSUER`; the `iss` claim must equal it exactly. */
  issuer: string;
  /** Accepted audience(s); the token's `aud` must contain one of them. */
  audience: string | readonly string[];
  /** Where the public keys are. Default `${issuer}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 5. */
  clockTolerance?: number;
  /**
   * Accepted signature algorithms. Default `['ES256', 'EdDSA', 'RS256', 'PS256']`.
   * `none` and HS* are refused at construction: a public JWKS cannot verify them safely.
   */
  algorithms?: readonly string[];
  /** Tokens longer than this many characters are refused before parsing. Default 8192. */
  maxTokenLength?: number;
  /** `realm` in `WWW-Authenticate` challenges. Default: the (first) audience. */
  realm?: string;
  /** Minimum time between two JWKS fetches triggered by an unknown `kid`, in ms. Default 30000. */
  cooldownDuration?: number;
  /** The JWKS is refetched when older than this, in ms. Default 600000. */
  cacheMaxAge?: number;
  /** Timeout of a JWKS fetch, in ms. Default 5000. */
  timeoutDuration?: number;
  /** Clock for `exp`/`nbf`/`iat` checks, epoch ms. Default `Date.now`. */
  now?: () => number;
  /**
   * The organization(s) whose tokens this service accepts; a token of any other `org_id` is
   * refused like a token for another audience (`claim_invalid`, claim `org_id`; 401
   * `invalid_token` in `require()`). One id, a list, or a synchronous function of the
   * request (a route parameter, a lookup by host name); a function that returns
   * `undefined` accepts no token for that request. With a function, `verify()` needs the
   * pin per call: `verify(token, { orgId })`. Default: tokens of every org.
   *
   * @example
   * ```ts
   * // One tenant's deployment:
   * createVerifier({ issuer, audience, orgId: 'org_01J…' })
   * // The tenant named in the path, /orgs/:orgId/…:
   * createVerifier({ issuer, audience, orgId: (req) => req.params.orgId })
   * ```
   */
  orgId?: OrgIdOption;
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

const DEFAULT_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
const DEFAULTS = {
  clockTolerance: 5,
  maxTokenLength: 8192,
  cooldownDuration: 30_000,
  cacheMaxAge: 600_000,
  timeoutDuration: 5_000,
} as const;
/** Claims every scope-auth access token carries (iss and aud are required by the issuer/audience checks). */
const REQUIRED_CLAIMS = ['exp', 'iat', 'sub', 'client_id', 'jti', 'org_id', 'app_id'];
const STRING_CLAIMS = ['sub', 'client_id', 'jti', 'org_id', 'app_id'] as const;
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
          challenge(res, 401, settings.realm, { error: 'invalid_token', description: orgNotAccepted().message });
          return;
        }
        authorize(req, res, next, known, scopes);
        return;
      }
      const header = req.headers.authorization?.trim();
      if (header === undefined || !/^bearer(\s|$)/i.test(header)) {
        challenge(res, 401, settings.realm, undefined, { error: 'unauthorized', description: 'A bearer token is required' });
        return;
      }
      const token = BEARER.exec(header)?.[1];
      if (token === undefined) {
        const description = 'The Authorization header is not a valid Bearer token';
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
            challenge(res, 401, settings.realm, { error: 'invalid_token', description: err.message });
          } else {
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
        challenge(res, 403, settings.realm, {
          error: 'insufficient_scope',
          description: `The access token lacks the scope ${missing.join(' ')}`,
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

/** The checked options; the arrays are this verifier's own copies, handed to jose as they are. */
interface Settings {
  issuer: string;
  audience: string[];
  jwksUrl: string;
  clockTolerance: number;
  algorithms: string[];
  maxTokenLength: number;
  realm: string;
  cooldownDuration: number;
  cacheMaxAge: number;
  timeoutDuration: number;
  now: () => number;
  orgId: OrgPin | OrgIdResolver | undefined;
}

function readOptions(options: VerifierOptions): Settings {
  const fail = (message: string): never => {
    throw new TypeError(`createVerifier(): ${message}`);
  };
  const { issuer } = options;
  if (typeof issuer !== 'string' || issuer === '') fail('`issuer` is required (the server\'s SCOPE_AUTH_ISSUER)');
  const audience = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (!Array.isArray(audience) || audience.length === 0 || audience.some((a) => typeof a !== 'string' || a === '')) {
    fail('`audience` is required: a string or a non-empty array of strings');
  }
  const jwksUrl = options.jwksUrl ?? `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
  try {
    const url = new URL(jwksUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(`jwksUrl must be an http(s) URL, got ${JSON.stringify(jwksUrl)}`);
  } catch (err) {
    if (err instanceof TypeError && err.message.startsWith('createVerifier()')) throw err;
    fail(`jwksUrl must be an http(s) URL, got ${JSON.stringify(jwksUrl)}`);
  }
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  if (algorithms.length === 0) fail('`algorithms` must not be empty');
  for (const alg of algorithms) {
    if (alg.toLowerCase() === 'none' || /^hs/i.test(alg)) {
      fail(`algorithm ${JSON.stringify(alg)} is not allowed: tokens must be signed with a key from the issuer's JWKS`);
    }
  }
  const nonNegative = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`\`${name}\` must be a non-negative number`);
    return value;
  };
  return {
    issuer,
    audience: [...audience],
    jwksUrl,
    clockTolerance: nonNegative('clockTolerance', options.clockTolerance, DEFAULTS.clockTolerance),
    algorithms: [...algorithms],
    maxTokenLength: nonNegative('maxTokenLength', options.maxTokenLength, DEFAULTS.maxTokenLength),
    realm: options.realm ?? audience[0] ?? issuer,
    cooldownDuration: nonNegative('cooldownDuration', options.cooldownDuration, DEFAULTS.cooldownDuration),
    cacheMaxAge: nonNegative('cacheMaxAge', options.cacheMaxAge, DEFAULTS.cacheMaxAge),
    timeoutDuration: Math.floor(nonNegative('timeoutDuration', options.timeoutDuration, DEFAULTS.timeoutDuration)),
    now: options.now ?? Date.now,
    orgId: readOrgIdOption(options.orgId, 'createVerifier()', true),
  };
}

/** Whether the space-separated `granted` list holds `scope` as a whole member (no allocation: this runs per request). */
function grants(granted: string, scope: string): boolean {
  for (let at = granted.indexOf(scope); at !== -1; at = granted.indexOf(scope, at + 1)) {
    const end = at + scope.length;
    if ((at === 0 || granted.charCodeAt(at - 1) === SPACE) && (end === granted.length || granted.charCodeAt(end) === SPACE)) return true;
  }
  return false;
}

function rethrowKeyError(err: unknown): never {
  throw keyError(err);
}

/** Errors of the key lookup: either no usable key for this token, or the JWKS could not be had. */
function keyError(err: unknown): TokenVerificationError {
  if (
    err instanceof joseErrors.JWKSNoMatchingKey ||
    err instanceof joseErrors.JWKSMultipleMatchingKeys ||
    err instanceof joseErrors.JOSENotSupported ||
    err instanceof joseErrors.JWKInvalid
  ) {
    return new TokenVerificationError('key_not_found', 'The access token is signed with an unknown key', { cause: err });
  }
  return new TokenVerificationError('jwks_unavailable', 'The signing keys of the issuer could not be fetched', { cause: err });
}

function verificationError(err: unknown): TokenVerificationError {
  if (err instanceof TokenVerificationError) return err;
  if (err instanceof joseErrors.JWTExpired) {
    return new TokenVerificationError('token_expired', 'The access token expired', { claim: err.claim, cause: err });
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'typ') {
      return new TokenVerificationError('typ_invalid', 'The token is not an access token (typ at+jwt)', { cause: err });
    }
    if (err.claim === 'nbf') {
      return new TokenVerificationError('token_not_yet_valid', 'The access token is not valid yet', { claim: 'nbf', cause: err });
    }
    return claimError(err.claim, err);
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
    return new TokenVerificationError('algorithm_not_allowed', 'The access token is signed with an algorithm that is not accepted', { cause: err });
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new TokenVerificationError('signature_invalid', 'The access token signature is invalid', { cause: err });
  }
  return new TokenVerificationError('token_malformed', 'The access token is malformed', { cause: err });
}

function claimError(claim: string, cause?: unknown): TokenVerificationError {
  return new TokenVerificationError('claim_invalid', `The access token has a missing or invalid "${claim}" claim`, { claim, cause });
}

function readClaims(payload: JWTPayload, nowMs: number, tolerance: number): AccessTokenClaims {
  for (const claim of STRING_CLAIMS) {
    const value = payload[claim];
    if (typeof value !== 'string' || value === '') throw claimError(claim);
  }
  const { iss, aud, iat, exp, scope } = payload;
  if (typeof iss !== 'string') throw claimError('iss');
  if (aud === undefined) throw claimError('aud');
  if (typeof iat !== 'number') throw claimError('iat');
  if (typeof exp !== 'number') throw claimError('exp');
  if (scope !== undefined && typeof scope !== 'string') throw claimError('scope');
  if (iat > nowMs / 1000 + tolerance) {
    throw new TokenVerificationError('token_not_yet_valid', 'The access token is not valid yet', { claim: 'iat' });
  }
  // jose parsed this object for this call alone, so it is completed in place, not copied.
  payload.scope = scope ?? '';
  return payload as unknown as AccessTokenClaims; // every claim of the type was checked above
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
