// The key-encryption key and the AES-256-GCM envelope of stored private signing keys.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class KekError extends Error {
  override name = 'KekError';
}

const KEK_BYTES = 32;

function parseKekFile(path: string): Buffer {
  const bytes = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (bytes.length !== KEK_BYTES) throw new KekError(`${path} is not a 32-byte base64 key-encryption key`);
  return bytes;
}

/**
 * The KEK from SCOPE_AUTH_KEK when set, else `<keysDir>/kek`, created with mode 0600 on
 * first start. Creation uses O_EXCL so two processes starting together agree on one key.
 */
export function loadKek(fromEnv: Buffer | null, keysDir: string): { kek: Buffer; created: boolean } {
  if (fromEnv) return { kek: fromEnv, created: false };
  const path = join(keysDir, 'kek');
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) chmodSync(path, 0o600);
    return { kek: parseKekFile(path), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const kek = randomBytes(KEK_BYTES);
  try {
    writeFileSync(path, kek.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return { kek, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { kek: parseKekFile(path), created: false };
    throw error;
  }
}

/** `v1.<iv>.<tag>.<ciphertext>` (base64url); `aad` binds the ciphertext to its row. */
export function seal(kek: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

export function open(kek: Buffer, sealed: string, aad: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new KekError(`unreadable sealed value for ${aad}`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new KekError(
      `cannot decrypt ${aad}: the key-encryption key (SCOPE_AUTH_KEK or keys/kek) is not the one it was encrypted with`,
      { cause: error },
    );
  }
}
