// RFC 9068 access tokens.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ActiveSigningKey } from './keyring.js';

export interface AccessTokenInput {
  readonly issuer: string;
  readonly audience: string;
  readonly keyId: string;
  readonly orgId: string;
  readonly appId: string;
  /** Expanded and sorted. */
  readonly scopes: readonly string[];
  readonly ttlSeconds: number;
  readonly nowMs: number;
}

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  client_id: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  scope: string;
  org_id: string;
  app_id: string;
}

export async function mintAccessToken(key: ActiveSigningKey, input: AccessTokenInput): Promise<string> {
  const iat = Math.floor(input.nowMs / 1000);
  const claims: AccessTokenClaims = {
    iss: input.issuer,
    sub: input.keyId,
    client_id: input.keyId,
    aud: input.audience,
    iat,
    exp: iat + input.ttlSeconds,
    jti: randomUUID(),
    scope: input.scopes.join(' '),
    org_id: input.orgId,
    app_id: input.appId,
  };
  return new SignJWT({ ...claims }).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);
}

/** The app's TTL, else the default, clamped to [min, max]. */
export function tokenLifetime(appTtl: number | null, limits: { defaultSeconds: number; minSeconds: number; maxSeconds: number }): number {
  return Math.min(limits.maxSeconds, Math.max(limits.minSeconds, appTtl ?? limits.defaultSeconds));
}
