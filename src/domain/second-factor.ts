// A person's second factor, as they manage it (/v1/me/mfa) and as an owner resets it.
// Enrolment is two steps: POST /v1/me/mfa makes a secret, kept sealed under the KEK and
// pending; POST /v1/me/mfa/confirm with a code of it enables it and answers the ten recovery
// codes, once. Removing it takes a current code (TOTP or recovery): the second factor
// exists for when the password is known to someone else, so the password alone must not
// remove it. An owner (admin.users:full) resets it for a person who lost their phone and
// their codes; the operator's CLI does the same for an org's last owner.
import { ConflictError, InvalidRequestError, NotFoundError, ThrottledError } from '../errors.js';
import * as store from '../store/second-factor.js';
import * as users from '../store/users.js';
import type { UserRow } from '../store/users.js';
import type { Actor, AdminDeps } from './actor.js';
import { recordActorAudit, recordAudit } from './audit.js';
import { findUserToChange, personView, type PersonView } from './people.js';
import { newRecoveryCodes, normalizeRecoveryCode, recoveryCodeDigest } from './recovery-codes.js';
import type { SecondFactorCodes } from './second-factor-check.js';
import type { SessionCaller } from './sessions.js';
import type { CodeCheck } from './sign-in.js';
import { matchTotp, newTotpSecret, openTotpSecret, sealTotpSecret, totpUri } from './totp.js';

export type SecondFactorDeps = Pick<AdminDeps, 'db' | 'clock' | 'config'> & { readonly kek: Buffer };

export type VerifySecondFactor = (ip: string, person: UserRow, codes: SecondFactorCodes) => Promise<CodeCheck>;

export interface SecondFactorStatus {
  readonly enabled: boolean;
  readonly enabledAt: number | null;
  /** Enrolment started and not confirmed yet. */
  readonly pending: boolean;
  readonly recoveryCodesRemaining: number;
}

async function self(deps: Pick<AdminDeps, 'db'>, caller: SessionCaller): Promise<UserRow> {
  const row = await users.getUser(deps.db, caller.orgId, caller.userId);
  if (!row) throw new NotFoundError('you no longer exist in this organization');
  return row;
}

export async function secondFactorStatus(deps: SecondFactorDeps, caller: SessionCaller): Promise<SecondFactorStatus> {
  const row = await self(deps, caller);
  const enabled = row.mfa_enabled_at !== null;
  return {
    enabled,
    enabledAt: row.mfa_enabled_at,
    pending: !enabled && row.totp_secret_encrypted !== null,
    recoveryCodesRemaining: enabled ? await store.countUnusedRecoveryCodes(deps.db, row.id) : 0,
  };
}

export interface Enrolment {
  /** For a QR code: what authenticator apps read. Shown once, in this answer. */
  readonly otpauthUri: string;
  /** The same secret in base32, for typing in. Shown once. */
  readonly secret: string;
}

const enabledAlready = () => new ConflictError('your second factor is enabled already; to enrol a new one, remove it first (DELETE /v1/me/mfa)');

/** Starts (or starts again) enrolment: a new pending secret. */
export async function startEnrolment(deps: SecondFactorDeps, caller: SessionCaller): Promise<Enrolment> {
  const row = await self(deps, caller);
  if (row.mfa_enabled_at !== null) throw enabledAlready();
  const secret = newTotpSecret();
  if (!(await store.setPendingTotp(deps.db, row.id, sealTotpSecret(deps.kek, row.id, secret), deps.clock.now()))) throw enabledAlready();
  // The authenticator app lists it under this server's host and the person's email.
  return { otpauthUri: totpUri(secret, new URL(deps.config.issuer).host, row.email), secret };
}

export interface Confirmed {
  readonly user: PersonView;
  /** Ten single-use codes; shown once, in this answer. */
  readonly recoveryCodes: string[];
}

/** Enables the pending secret with a current code of it, and makes the recovery codes. */
export async function confirmEnrolment(deps: SecondFactorDeps, caller: SessionCaller, ip: string, code: string): Promise<Confirmed> {
  const row = await self(deps, caller);
  if (row.mfa_enabled_at !== null) throw enabledAlready();
  const sealed = row.totp_secret_encrypted;
  if (sealed === null) throw new ConflictError('no enrolment was started: POST /v1/me/mfa first');
  const now = deps.clock.now();
  const step = matchTotp(openTotpSecret(deps.kek, row.id, sealed), code, now);
  if (step === null) throw new InvalidRequestError('code: not a current code of this secret; check the time of your phone and try the next code');
  const codes = newRecoveryCodes();
  const hashes = codes.map((c) => recoveryCodeDigest(row.id, normalizeRecoveryCode(c)!));
  const updated = await deps.db.transaction().execute(async (trx) => {
    if (!(await store.enableTotp(trx, row.id, sealed, step, hashes, now))) {
      throw new ConflictError('the enrolment changed meanwhile (started again, or confirmed by another request): start again');
    }
    await recordAudit(trx, deps.clock, { orgId: row.org_id, actor: row.id, ip, action: 'user.mfa_enabled', targetType: 'user', targetId: row.id, details: { recovery_codes: codes.length } });
    return users.getUser(trx, row.org_id, row.id);
  });
  if (!updated) throw new NotFoundError('you no longer exist in this organization');
  return { user: await personView(deps.db, updated), recoveryCodes: codes };
}

/**
 * Removes the person's own second factor, given a current code of it (counted by the sign-in
 * throttle). Without an enabled one, cancels a pending enrolment, no code needed.
 */
export async function removeMySecondFactor(deps: SecondFactorDeps, verify: VerifySecondFactor, caller: SessionCaller, ip: string, codes: SecondFactorCodes): Promise<void> {
  const row = await self(deps, caller);
  if (row.mfa_enabled_at === null) {
    await store.clearSecondFactor(deps.db, row.id, deps.clock.now());
    return;
  }
  if (codes.totp === undefined && codes.recoveryCode === undefined) {
    throw new InvalidRequestError('totp: required (a current code of your authenticator app), or recovery_code (one of your recovery codes)');
  }
  const check = await verify(ip, row, codes);
  if (!check.ok) {
    if (check.error === 'throttled') throw new ThrottledError('too many wrong codes; try again later', { extra: { retry_after_seconds: check.retryAfterSeconds } });
    throw new InvalidRequestError(codes.recoveryCode !== undefined ? 'recovery_code: not one of your unused recovery codes' : 'totp: not a current code of your authenticator app, or used already');
  }
  await deps.db.transaction().execute(async (trx) => {
    await store.clearSecondFactor(trx, row.id, deps.clock.now());
    await recordAudit(trx, deps.clock, { orgId: row.org_id, actor: row.id, ip, action: 'user.mfa_disabled', targetType: 'user', targetId: row.id, details: {} });
  });
}

/**
 * An owner removes another person's second factor (enabled or pending): for someone who lost
 * their phone and their recovery codes. Their sessions stay; where the org requires a second
 * factor, they serve only enrolment until the person enrols a new one. A person removes
 * their own with DELETE /v1/me/mfa, which asks for a code.
 */
export async function resetSecondFactor(deps: AdminDeps, actor: Actor, input: { userId: string }): Promise<PersonView> {
  const current = await findUserToChange(deps, actor, input.userId);
  if (current.id === actor.id) throw new ConflictError('remove your own second factor with DELETE /v1/me/mfa (it asks for a current code)');
  const row = await deps.db.transaction().execute(async (trx) => {
    if (await store.clearSecondFactor(trx, current.id, deps.clock.now())) {
      await recordActorAudit(trx, deps.clock, actor, { action: 'user.mfa_reset', targetType: 'user', targetId: current.id, details: { was_enabled: current.mfa_enabled_at !== null } });
    }
    return users.getUser(trx, actor.orgId, current.id);
  });
  if (!row) throw new NotFoundError(`no person ${input.userId} in this organization`);
  return personView(deps.db, row);
}
