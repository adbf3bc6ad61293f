// People's email addresses: stored as given (trimmed), compared in lower case, unique in the
// deployment. The check is deliberately loose (something@something, no spaces): the server
// sends no mail, and a person proves the address only by being handed the invitation link.
import { InvalidRequestError } from '../errors.js';

export const EMAIL_MAX = 254;

/** What sign-in and uniqueness compare. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

export function checkEmail(value: string, field = 'email'): { email: string; key: string } {
  const email = value.trim();
  // eslint-disable-next-line no-control-regex
  if (email.length > EMAIL_MAX || !/^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+$/.test(email)) {
    throw new InvalidRequestError(`${field}: expected an email address such as ada@example.com (at most ${EMAIL_MAX} characters)`);
  }
  return { email, key: emailKey(email) };
}
