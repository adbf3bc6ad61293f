// Verifying this server's own access tokens (admin API, introspection): signature against
// the keyring's published keys, iss, exp, typ at+jwt; and whether the key behind a token is
// still usable, so a revoked key's tokens stop working here at once.
import { errors as joseErrors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { SIGNING_ALGS } from '../config.js';
import type { Db } from '../store/database.js';
import { findKeyForExchange } from '../store/api-keys.js';
import type { Clock } from './clock.js';
import type { Keyring } from './keyring.js';
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
  const getKey = (header: JWTHeaderParameters) => {
    const key = header.kid === undefined ? undefined : deps.keyring.verificationKey(header.kid);
    if (!key) throw new joseErrors.JWKSNoMatchingKey();
    return key;
  };
  return async (token) => {
    if (token.length > MAX_TOKEN_LENGTH) return null;
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
 * True while the token's key exists, is neither revoked nor expired, its app is not deleted
 * and its org not disabled: one read of the key row (with its app and org) per call, so a
 * change by any instance applies at the next call.
 */
export async function isTokenKeyActive(db: Db, clock: Clock, claims: AccessTokenClaims): Promise<boolean> {
  const key = await findKeyForExchange(db, claims.client_id);
  return (
    key !== undefined &&
    key.org_id === claims.org_id &&
    key.app_id === claims.app_id &&
    key.revoked_at === null &&
    (key.expires_at === null || key.expires_at > clock.now()) &&
    key.app_deleted_at === null &&
    key.org_disabled_at === null
  );
}
