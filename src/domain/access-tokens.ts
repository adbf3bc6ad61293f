// Verifying this server's own access tokens (admin API, introspection): signature against
// the keyring's published keys, iss, exp, typ at+jwt; and whether the key behind a token is
// still usable, so a revoked key's tokens stop working here at once, and what its app still
// grants, so a narrowed app's tokens lose the rest here at once.
import { errors as joseErrors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { SIGNING_ALGS } from '../config.js';
// The SDK imports nothing from the server; the server may use the SDK's definitions.
import { CANONICAL_COMPACT_JWS } from '../../sdk/src/token-claims.js';
import type { Db } from '../store/database.js';
import { findKeyForExchange, type ExchangeKeyRow } from '../store/api-keys.js';
import type { Clock } from './clock.js';
import type { Keyring } from './keyring.js';
import type { Catalog } from './scopes.js';
import type { AccessTokenClaims } from './tokens.js';

export interface VerifiedToken {
  readonly claims: AccessTokenClaims;
  readonly scopes: ReadonlySet<string>;
}

/** Tokens longer than this are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;


const STRING_CLAIMS = ['iss', 'sub', 'client_id', 'jti', 'scope', 'org_id', 'app_id'] as const;

export type TokenVerifier = (token: string) => Promise<VerifiedToken | null>;

/** Null for any token this server did not issue, or that is expired, malformed or of the wrong type. */
export function createTokenVerifier(deps: { keyring: Keyring; issuer: string; clock: Clock }): TokenVerifier {
  // A kid this instance does not know may be another instance's rotation that this one has
  // not heard of yet: the keyring re-reads before the token is called invalid.
  const getKey = async (header: JWTHeaderParameters) => {
    const key = header.kid === undefined ? undefined : await deps.keyring.resolveVerificationKey(header.kid);
    if (!key) throw new joseErrors.JWKSNoMatchingKey();
    return key;
  };
  return async (token) => {
    if (token.length > MAX_TOKEN_LENGTH || !CANONICAL_COMPACT_JWS.test(token)) return null;
    try {
      const { payload } = await jwtVerify(token, getKey, {
        issuer: deps.issuer,
        typ: 'at+jwt',
        algorithms: [...SIGNING_ALGS],
        currentDate: new Date(deps.clock.now()),
        requiredClaims: ['exp', 'iat', 'sub', 'client_id', 'org_id', 'app_id', 'scope', 'jti', 'aud'],
      });
      if (STRING_CLAIMS.some((name) => typeof payload[name] !== 'string')) return null;
      const claims = payload as unknown as AccessTokenClaims;
      return { claims, scopes: new Set(claims.scope.split(' ').filter(Boolean)) };
    } catch {
      return null;
    }
  };
}

/**
 * The token's key (with its app's current scopes) while it exists, is neither revoked nor
 * expired, its app is not deleted and its org not disabled: one read of the key row (with its
 * app and org) per call, so a change by any instance applies at the next call.
 */
async function usableKey(db: Db, clock: Clock, claims: AccessTokenClaims): Promise<ExchangeKeyRow | undefined> {
  const key = await findKeyForExchange(db, claims.client_id);
  const usable =
    key !== undefined &&
    key.org_id === claims.org_id &&
    key.app_id === claims.app_id &&
    key.revoked_at === null &&
    (key.expires_at === null || key.expires_at > clock.now()) &&
    key.app_deleted_at === null &&
    key.org_disabled_at === null;
  return usable ? key : undefined;
}

/** True while the token's key is usable (see usableKey). */
export async function isTokenKeyActive(db: Db, clock: Clock, claims: AccessTokenClaims): Promise<boolean> {
  return (await usableKey(db, clock, claims)) !== undefined;
}

/** A verified token as it may act now, or null once its key is no longer usable. */
export type TokenAuthority = (verified: VerifiedToken) => Promise<VerifiedToken | null>;

/** Distinct apps' scope lists remembered; beyond it the memo starts over (as the exchange's does). */
const EXPANSION_MEMO_LIMIT = 1024;

/**
 * What a token may do on the admin API: its scopes that its app grants now, from the same
 * key read that checks the key is usable. An app narrowed since the token was minted loses
 * the rest at its next call, not at the token's expiry. Every admin call runs this, so the
 * expansion of each app's scopes is memoized by its stored text, and an unnarrowed token
 * (the usual case) is returned as it is.
 */
export function createTokenAuthority(deps: { db: Db; clock: Clock; catalog: Catalog }): TokenAuthority {
  const expansions = new Map<string, ReadonlySet<string>>();
  const granted = (appScopes: string): ReadonlySet<string> => {
    let set = expansions.get(appScopes);
    if (set === undefined) {
      set = new Set(deps.catalog.expand(JSON.parse(appScopes) as string[]));
      if (expansions.size >= EXPANSION_MEMO_LIMIT) expansions.clear();
      expansions.set(appScopes, set);
    }
    return set;
  };
  return async (verified) => {
    const key = await usableKey(deps.db, deps.clock, verified.claims);
    if (key === undefined) return null;
    const now = granted(key.app_scopes);
    for (const scope of verified.scopes) {
      if (!now.has(scope)) return { claims: verified.claims, scopes: new Set([...verified.scopes].filter((s) => now.has(s))) };
    }
    return verified;
  };
}
