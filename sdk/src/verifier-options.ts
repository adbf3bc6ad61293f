/**
 * The options of `createVerifier`, and their checked form: every default of the verifier
 * is here, and every option is validated once, at construction.
 */
import type { Request } from 'express';
import type { TokenVerificationError } from './errors.js';
import type { OrgIdOption, OrgIdResolver, OrgPin } from './org-pin.js';
import { readOrgIdOption } from './org-pin.js';

/** The `onError` option: told of each refusal of `require()`. */
export type VerifierErrorHook = (err: TokenVerificationError, req: Request) => void;

/** Options of `createVerifier`. */
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
  /**
   * Called with the error and the request for each refusal `require()` answers, before it
   * answers: a 401 (`token_missing`, `token_malformed`, a failed verification), a 403
   * (`insufficient_scope`, `claim` `scope`), and a JWKS outage (`jwks_unavailable`, which then
   * goes on to the app's error handler as before). For logs and metrics: it cannot change the
   * answer, and whatever it throws (or a promise it returns rejects with) is ignored. Not
   * called by `verify()`, which throws instead, nor for a bug (an `orgId` function that
   * throws), which goes to the app's error handler. Never given the token.
   *
   * @example
   * ```ts
   * createVerifier({
   *   issuer,
   *   audience,
   *   onError: (err, req) =>
   *     log.warn({ code: err.code, claim: err.claim, path: req.path, request_id: req.get('x-request-id') }, err.message),
   * })
   * ```
   */
  onError?: VerifierErrorHook;
}

const DEFAULT_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
const DEFAULTS = {
  clockTolerance: 5,
  maxTokenLength: 8192,
  cooldownDuration: 30_000,
  cacheMaxAge: 600_000,
  timeoutDuration: 5_000,
} as const;

/** The checked options; the arrays are this verifier's own copies, handed to jose as they are. */
export interface Settings {
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
  onError: VerifierErrorHook | undefined;
}

/** Throws a TypeError naming the option at fault: a misconfigured verifier must not start. */
export function readOptions(options: VerifierOptions): Settings {
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
    onError: readHook(options.onError, fail),
  };
}

function readHook(value: unknown, fail: (message: string) => never): VerifierErrorHook | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail('`onError` must be a function (err, req) => void');
  return value as VerifierErrorHook;
}
