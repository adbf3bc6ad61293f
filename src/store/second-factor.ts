// A person's second factor: the sealed TOTP secret (pending until confirmed), the last time
// step accepted, and the hashed recovery codes. The writes that must happen once — a step
// accepted, a recovery code used, enrolment confirmed — are conditional updates, so of two
// requests racing with one code exactly one wins, on either dialect.
import type { Db } from './database.js';

export interface SecondFactorRow {
  readonly totp_secret_encrypted: string | null;
  readonly totp_last_step: number | null;
  readonly mfa_enabled_at: number | null;
}

export async function getSecondFactor(db: Db, userId: string): Promise<SecondFactorRow | undefined> {
  return db.selectFrom('users').select(['totp_secret_encrypted', 'totp_last_step', 'mfa_enabled_at']).where('id', '=', userId).executeTakeFirst();
}

/** Sets a new pending secret (replacing a pending one); false when the second factor is enabled, or there is no such person. */
export async function setPendingTotp(db: Db, userId: string, sealed: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ totp_secret_encrypted: sealed, totp_last_step: null, updated_at: now })
    .where('id', '=', userId)
    .where('mfa_enabled_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Enables the pending secret `sealed` with the step of the code that confirmed it (so that
 * code cannot sign in), replacing any recovery codes; false when the secret is no longer the
 * pending one (enrolment restarted, or confirmed by another request). Run it in a transaction.
 */
export async function enableTotp(db: Db, userId: string, sealed: string, step: number, codeHashes: readonly string[], now: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ mfa_enabled_at: now, totp_last_step: step, updated_at: now })
    .where('id', '=', userId)
    .where('mfa_enabled_at', 'is', null)
    .where('totp_secret_encrypted', '=', sealed)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return false;
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  await db
    .insertInto('recovery_codes')
    .values(codeHashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now, used_at: null })))
    .execute();
  return true;
}

/** Records `step` as the last accepted, unless it is not later than the last one: false then (a replayed code). */
export async function acceptTotpStep(db: Db, userId: string, step: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where('mfa_enabled_at', 'is not', null)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Marks an unused recovery code used; false when there is no such unused code. */
export async function useRecoveryCode(db: Db, userId: string, codeHash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('recovery_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function countUnusedRecoveryCodes(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Removes the second factor, enabled or pending, with its recovery codes; false when there was none. */
export async function clearSecondFactor(db: Db, userId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ totp_secret_encrypted: null, totp_last_step: null, mfa_enabled_at: null, updated_at: now })
    .where('id', '=', userId)
    .where('totp_secret_encrypted', 'is not', null)
    .executeTakeFirst();
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  return Number(result.numUpdatedRows) > 0;
}
