// A signing key's material: generated for an algorithm, its private half sealed under the KEK
// for storage, and opened again into the forms signing and verifying use.
import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { SigningAlg } from '../config.js';
import type { NewSigningKey, SigningKeyRow } from '../store/signing-keys.js';
import { open, seal } from './kek.js';

export interface OpenedSigningKey {
  /** A node:crypto key, made once per key at load, so signing converts nothing per token. */
  readonly privateKey: KeyObject;
  readonly publicKey: CryptoKey;
}

/** A new key pair whose kid is the RFC 7638 thumbprint of its public JWK. */
export async function generateSigningKey(alg: SigningAlg, kek: Buffer, now: number): Promise<NewSigningKey> {
  const options =
    alg === 'EdDSA'
      ? { crv: 'Ed25519', extractable: true }
      : alg === 'ES256'
        ? { extractable: true }
        : { modulusLength: 3072, extractable: true };
  const { privateKey, publicKey } = await generateKeyPair(alg, options);
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported, 'sha256');
  const publicJwk: JWK = { ...exported, kid, alg, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg };
  return {
    kid,
    alg,
    public_jwk: JSON.stringify(publicJwk),
    private_jwk_enc: seal(kek, JSON.stringify(privateJwk), `signing key ${kid}`),
    created_at: now,
  };
}

/** Throws KekError when the row was sealed under another KEK. */
export async function openSigningKey(kek: Buffer, row: SigningKeyRow): Promise<OpenedSigningKey> {
  const jwk = JSON.parse(open(kek, row.private_jwk_enc, `signing key ${row.kid}`)) as JWK;
  return {
    privateKey: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }),
    publicKey: (await importJWK(JSON.parse(row.public_jwk) as JWK, row.alg)) as CryptoKey,
  };
}
