// The second factor in tests: codes computed from the secret with otpauth (as an
// authenticator app computes them) at the test clock's time, and a person enrolled through
// the API as they would enrol.
import { Secret, TOTP } from 'otpauth';
import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import type { TestClock } from './clock.js';
import { session, type SignedIn } from './people.js';

export const STEP_MS = 30_000;

/** The code an authenticator app shows for `secret` at `at`. */
export function codeAt(secret: string, at: number): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: at });
}

/** A six-digit code that is none of those of the steps around `at`. */
export function wrongCodeAt(secret: string, at: number): string {
  const near = new Set([-2, -1, 0, 1, 2].map((d) => codeAt(secret, at + d * STEP_MS)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

export interface Enrolled {
  readonly secret: string;
  readonly otpauthUri: string;
  readonly recoveryCodes: string[];
}

/**
 * Enrols the person's second factor (start, then confirm with the current code) and moves the
 * clock on one step, so the next code is not the one confirming used.
 */
export async function enrol(app: App, clock: TestClock, person: Pick<SignedIn, 'cookie' | 'csrf'>): Promise<Enrolled> {
  const started = await session(app, person).post('/v1/me/mfa').expect(201);
  const secret = started.body.secret as string;
  const confirmed = await session(app, person).post('/v1/me/mfa/confirm', { code: codeAt(secret, clock.now()) }).expect(200);
  expect(confirmed.body.user.mfa_enabled).toBe(true);
  clock.advance(STEP_MS);
  return { secret, otpauthUri: started.body.otpauth_uri as string, recoveryCodes: confirmed.body.recovery_codes as string[] };
}
