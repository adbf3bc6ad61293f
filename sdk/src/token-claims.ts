/**
 * What a scope-auth access token claims, and how jose's verdict on one becomes a
 * `TokenVerificationError` with a stable code.
 */
import { errors as joseErrors } from 'jose';
import type { JWTPayload } from 'jose';
import { TokenVerificationError } from './errors.js';

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

/** Claims every scope-auth access token carries (iss and aud are required by the issuer/audience checks). */
/**
 * Compact JWS as the server writes it: three unpadded base64url parts (the last empty for an unsigned token, which the algorithm check then refuses). jose alone also takes
 * `=` padding and some whitespace inside the parts, so one token would pass under several
 * spellings; only this one is verified, here and by the server's own
 * verification (src/domain/access-tokens.ts imports it).
 */
export const CANONICAL_COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export const REQUIRED_CLAIMS = ['exp', 'iat', 'sub', 'client_id', 'jti', 'org_id', 'app_id'];
const STRING_CLAIMS = ['sub', 'client_id', 'jti', 'org_id', 'app_id'] as const;

/** For the JWKS lookup's `.catch()`: jose would otherwise report its own error classes. */
export function rethrowKeyError(err: unknown): never {
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

/** Maps what `jwtVerify` threw to one stable code. */
export function verificationError(err: unknown): TokenVerificationError {
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

/** The claims jose does not check for us, checked; the payload becomes the result. */
export function readClaims(payload: JWTPayload, nowMs: number, tolerance: number): AccessTokenClaims {
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
