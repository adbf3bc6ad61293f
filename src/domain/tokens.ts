// RFC 9068 access tokens.
//
// Signed with node:crypto rather than jose's SignJWT: jose signs through WebCrypto, which
// costs ~120 µs of CPU per ES256 token and runs on libuv's threadpool — the threads argon2
// fills during a burst of cold exchanges, so every warm exchange would wait behind ~25 ms
// verifications. An ES256 or Ed25519 signature takes ~40 µs; it is made synchronously on
// the main thread. RSA signatures (~2 ms) still go to the threadpool. jose verifies the
// result in the tests and in every verifier.
import { constants, randomUUID, sign, type KeyObject, type SignKeyObjectInput, type SignPrivateKeyInput } from 'node:crypto';
import type { SigningAlg } from '../config.js';
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
  const header = { alg: key.alg, kid: key.kid, typ: 'at+jwt' };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = await jwsSignature(key.alg, key.privateKey, Buffer.from(signingInput));
  return `${signingInput}.${signature.toString('base64url')}`;
}

function base64url(json: string): string {
  return Buffer.from(json).toString('base64url');
}

/** The JWS signature (RFC 7518 §3) of `data`: ECDSA as r‖s, RSA-PSS with a digest-length salt. */
function jwsSignature(alg: SigningAlg, key: KeyObject, data: Buffer): Promise<Buffer> | Buffer {
  switch (alg) {
    case 'ES256':
      return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return sign(null, data, key);
    case 'RS256':
      return signInThreadpool('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING });
    case 'PS256':
      return signInThreadpool('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
  }
}

function signInThreadpool(digest: string, data: Buffer, key: SignKeyObjectInput | SignPrivateKeyInput): Promise<Buffer> {
  return new Promise((resolve, reject) => sign(digest, data, key, (error, signature) => (error ? reject(error) : resolve(signature))));
}

/** The app's TTL, else the default, clamped to [min, max]. */
export function tokenLifetime(appTtl: number | null, limits: { defaultSeconds: number; minSeconds: number; maxSeconds: number }): number {
  return Math.min(limits.maxSeconds, Math.max(limits.minSeconds, appTtl ?? limits.defaultSeconds));
}
