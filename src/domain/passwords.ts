// What a person's password must be (NIST SP 800-63B §3.1.1.2): long, any characters, no
// composition rules; not one of the 1,000 most common passwords, not containing the local
// part of the person's email. Passwords are NFC-normalized before they are checked, hashed
// or verified, so the same characters typed on two keyboards are one password, and their
// length is counted in code points. They are hashed with the same argon2id hasher (and
// parameters) as API secrets.
import commonList from '../data/common-passwords.json' with { type: 'json' };
import { InvalidRequestError } from '../errors.js';

export const PASSWORD_MIN = 15;
export const PASSWORD_MAX = 256;
/** The shortest local part a password may not contain (`jo` would refuse half the dictionary). */
const LOCAL_PART_MIN = 3;

const COMMON = new Set(commonList.passwords.map((p) => p.toLowerCase()));

/** NFC, as every password is before it is checked, hashed or verified. */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

export function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The password as it will be hashed; InvalidRequestError naming `field` when it may not be used. */
export function checkNewPassword(password: string, email: string | null, field = 'password'): string {
  const normalized = normalizePassword(password);
  const lower = normalized.toLowerCase();
  // The clearest reason first: "too short" would invite "password1234567".
  if (COMMON.has(lower)) throw new InvalidRequestError(`${field}: this is one of the 1,000 most common passwords; choose another`);
  const length = codePoints(normalized);
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw new InvalidRequestError(`${field}: expected ${PASSWORD_MIN} to ${PASSWORD_MAX} characters (a passphrase of a few words is easy to remember)`);
  }
  const local = email === null ? '' : email.slice(0, email.lastIndexOf('@')).toLowerCase();
  if (codePoints(local) >= LOCAL_PART_MIN && lower.includes(local)) {
    throw new InvalidRequestError(`${field}: must not contain your email address's name (the part before the @)`);
  }
  return normalized;
}

/** Whether `password` could be anybody's password at all: sign-in refuses longer ones before any work. */
export function isPasswordLength(password: string): boolean {
  const length = codePoints(normalizePassword(password));
  return length >= 1 && length <= PASSWORD_MAX;
}
