// The random values people's credentials are made of: a session cookie's value and the token
// of an invitation or password-reset link. 256 bits from the CSPRNG, base64url (43
// characters); only their SHA-256 is stored. A fast hash is enough where argon2 is needed
// for passwords: the value has 256 bits of entropy, so nothing can be guessed from its
// digest, and every request can afford to look a session up by it.
import { createHash, randomBytes } from 'node:crypto';

const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function randomToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** Whether `value` could be one of ours: anything else is refused before any lookup. */
export function isTokenShape(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

/** SHA-256, hex: what the database keeps and looks up. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
