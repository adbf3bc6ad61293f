// The second factor's time-based one-time passwords (RFC 6238) as authenticator apps expect
// them: SHA-1, 6 digits, 30-second steps, a 160-bit secret shown once as an otpauth:// URI
// (and its base32 for typing in). The codes are computed by `otpauth`; what is ours is the
// clock (injected, so tests drive time) and the time step a code matched, which the caller
// stores so that no code is ever accepted twice. The secret is kept sealed under the KEK, as
// signing keys are, bound to its person by the seal's associated data.
import { Secret, TOTP } from 'otpauth';
import { open, seal } from './kek.js';

const PERIOD_SECONDS = 30;
const DIGITS = 6;
const SECRET_BYTES = 20;
/** Codes of the step before and after the current one are accepted too: a phone's clock and a person's typing drift. */
export const TOTP_WINDOW_STEPS = 1;
export const TOTP_SHAPE = /^\d{6}$/;

function totpOf(secretBase32: string, names: { issuer?: string; label?: string } = {}): TOTP {
  return new TOTP({ secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits: DIGITS, period: PERIOD_SECONDS, ...names });
}

/** A new random secret, base32 (what authenticator apps take). */
export function newTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

/** The otpauth:// URI an authenticator app reads from a QR code: `issuer` names this server, `label` the person. */
export function totpUri(secretBase32: string, issuer: string, label: string): string {
  return totpOf(secretBase32, { issuer, label }).toString();
}

/** The time step (30 s since the epoch) `now` falls in. */
export function totpStep(now: number): number {
  return TOTP.counter({ period: PERIOD_SECONDS, timestamp: now });
}

/** The time step whose code `code` is, within the window around `now`; null when it is none of them. */
export function matchTotp(secretBase32: string, code: string, now: number): number | null {
  if (!TOTP_SHAPE.test(code)) return null;
  const delta = totpOf(secretBase32).validate({ token: code, timestamp: now, window: TOTP_WINDOW_STEPS });
  return delta === null ? null : totpStep(now) + delta;
}

const aadOf = (userId: string) => `totp secret ${userId}`;

export function sealTotpSecret(kek: Buffer, userId: string, secretBase32: string): string {
  return seal(kek, secretBase32, aadOf(userId));
}

/** Throws KekError when it was sealed under another KEK (or for another person). */
export function openTotpSecret(kek: Buffer, userId: string, sealed: string): string {
  return open(kek, sealed, aadOf(userId));
}
