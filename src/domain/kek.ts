// The key-encryption key and the AES-256-GCM envelope of stored private signing keys.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
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
 * Writes the file whole under a temporary name, then links it into place: link() fails when
 * the name exists, so of two processes starting together exactly one creates the file, and a
 * reader never finds it half-written (with a plain exclusive create, the second process could
 * read the file between the first one's open and write, and call it corrupt).
 */
function createKekFile(path: string, kek: Buffer): boolean {
  const temporary = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, kek.toString('base64') + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/**
 * The KEK from SCOPE_AUTH_KEK when set, else `<keysDir>/kek`, created with mode 0600 on
 * first start; processes starting together agree on one key.
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
  if (createKekFile(path, kek)) return { kek, created: true };
  return { kek: parseKekFile(path), created: false };
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
