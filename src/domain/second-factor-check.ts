// The second factor's one check, shared by sign-in and by a person removing their own second
// factor: a TOTP code of the current time step (or the one before or after) not accepted
// before, or one of the person's unused recovery codes. Accepting either is one conditional
// write (the step, or the code's used_at), so two requests racing with one code cannot both
// pass. A recovery code used is an audit event, with how many are left.
//
// The caller counts each check with the sign-in throttle: a wrong code is a failed attempt,
// so the million six-digit codes cannot be tried from one client faster than wrong passwords.
import type { Db } from '../store/database.js';
import { acceptTotpStep, countUnusedRecoveryCodes, useRecoveryCode } from '../store/second-factor.js';
import { recordAudit } from './audit.js';
import type { Clock } from './clock.js';
import { normalizeRecoveryCode, recoveryCodeDigest } from './recovery-codes.js';
import { matchTotp, openTotpSecret } from './totp.js';

export const RECOVERY_CODE_USED_ACTION = 'user.mfa_recovery_code_used';

/** What a person gave as their second factor: a TOTP code, or a recovery code (never both). */
export interface SecondFactorCodes {
  readonly totp?: string;
  readonly recoveryCode?: string;
}

/** Why a second factor did not pass (for the audit log; the caller sees one `mfa_required`). */
export type SecondFactorRefusal = 'mfa_required' | 'wrong_totp' | 'totp_replayed' | 'wrong_recovery_code';

export type SecondFactorOutcome =
  | { readonly ok: true; readonly via: 'totp' | 'recovery_code' }
  | { readonly ok: false; readonly reason: SecondFactorRefusal };

/** The person as the check needs them. */
export interface SecondFactorHolder {
  readonly id: string;
  readonly org_id: string;
  readonly totp_secret_encrypted: string | null;
  readonly mfa_enabled_at: number | null;
}

export interface SecondFactorCheckDeps {
  readonly db: Db;
  readonly clock: Clock;
  /** Opens the sealed TOTP secrets. */
  readonly kek: Buffer;
}

export type SecondFactorCheck = (person: SecondFactorHolder, codes: SecondFactorCodes, ip: string | null) => Promise<SecondFactorOutcome>;

/** Whether the person has a second factor that sign-in must ask for. */
export function hasSecondFactor(person: Pick<SecondFactorHolder, 'mfa_enabled_at' | 'totp_secret_encrypted'>): boolean {
  return person.mfa_enabled_at !== null && person.totp_secret_encrypted !== null;
}

export function createSecondFactorCheck(deps: SecondFactorCheckDeps): SecondFactorCheck {
  const { db, clock } = deps;

  async function totp(person: SecondFactorHolder, code: string): Promise<SecondFactorOutcome> {
    const secret = openTotpSecret(deps.kek, person.id, person.totp_secret_encrypted!);
    const step = matchTotp(secret, code, clock.now());
    if (step === null) return { ok: false, reason: 'wrong_totp' };
    return (await acceptTotpStep(db, person.id, step)) ? { ok: true, via: 'totp' } : { ok: false, reason: 'totp_replayed' };
  }

  async function recovery(person: SecondFactorHolder, given: string, ip: string | null): Promise<SecondFactorOutcome> {
    const code = normalizeRecoveryCode(given);
    if (code === null) return { ok: false, reason: 'wrong_recovery_code' };
    const used = await db.transaction().execute(async (trx) => {
      if (!(await useRecoveryCode(trx, person.id, recoveryCodeDigest(person.id, code), clock.now()))) return false;
      const remaining = await countUnusedRecoveryCodes(trx, person.id);
      await recordAudit(trx, clock, { orgId: person.org_id, actor: person.id, ip, action: RECOVERY_CODE_USED_ACTION, targetType: 'user', targetId: person.id, details: { remaining } });
      return true;
    });
    return used ? { ok: true, via: 'recovery_code' } : { ok: false, reason: 'wrong_recovery_code' };
  }

  return async (person, codes, ip) => {
    if (!hasSecondFactor(person)) throw new Error('checking the second factor of a person who has none');
    if (codes.recoveryCode !== undefined) return recovery(person, codes.recoveryCode, ip);
    if (codes.totp !== undefined) return totp(person, codes.totp);
    return { ok: false, reason: 'mfa_required' };
  };
}
