// A key's lookup digest: what finds the key a leaked secret belongs to when all a reporter
// has is the secret (POST /v1/leaks), without a key id. The hash is argon2id, salted per key,
// so it cannot be looked up; the digest is HMAC-SHA256 of the secret under a key derived from
// the KEK, stored next to it (api_keys.secret_digest, indexed). Keyed, so that a copy of the
// database alone cannot even test a guess against it; the argon2 hash still decides whether
// a reported secret is the key's. Keys made before digests existed have none and cannot be
// found this way.
import { createHmac, hkdfSync } from 'node:crypto';

/** The digest of a new key's secret; null where this process cannot make one (the CLI without the KEK). */
export type SecretDigest = (secret: string) => string | null;

/** Changing it would orphan every stored digest: a new label needs a new column or a rehash. */
const LABEL = 'scope-auth secret digest v1';

export function createSecretDigest(kek: Buffer): (secret: string) => string {
  const key = Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), LABEL, 32));
  return (secret) => createHmac('sha256', key).update(secret).digest('hex');
}
