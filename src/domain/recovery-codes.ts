// The second factor's recovery codes: ten single-use codes handed over once, when the
// second factor is enabled, for a person who has lost their phone. Each is 80 random bits
// written as four groups of four base32 letters and digits (`abcd-efgh-2345-wxyz`), typed
// in any case, with or without the hyphens. Only a SHA-256 of each (with the person's id)
// is stored: with 80 bits of entropy nothing can be guessed from the digest, and a code can
// be looked up by it, where argon2 would cost ten verifications a use.
import { randomBytes } from 'node:crypto';
import { tokenDigest } from './opaque-tokens.js';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const GROUPS = 4;
const GROUP_CHARS = 4;
const NORMALIZED = /^[a-z2-7]{16}$/;

/** A fresh code; 80 bits, one base32 character per 5 of them. */
function newCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  const groups: string[] = [];
  for (let i = 0; i < GROUPS; i++) groups.push(out.slice(i * GROUP_CHARS, (i + 1) * GROUP_CHARS));
  return groups.join('-');
}

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
}

/** The code as stored and compared (lower case, no hyphens or spaces), or null when it cannot be one. */
export function normalizeRecoveryCode(given: string): string | null {
  const code = given.toLowerCase().replace(/[\s-]/g, '');
  return NORMALIZED.test(code) ? code : null;
}

/** What is stored of a (normalized) code of this person. */
export function recoveryCodeDigest(userId: string, normalized: string): string {
  return tokenDigest(`recovery-code:${userId}:${normalized}`);
}
