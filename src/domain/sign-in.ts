// Sign-in: an email, a password and, for a person with a second factor, its code in; a
// session out. Every attempt costs exactly one argon2 verification, whatever the outcome: an
// unknown email, or a person without a password yet (invited), is verified against a fixed
// dummy hash made at startup with the same parameters, so neither the answer nor its timing
// tells which emails exist. The answer is one identical 401 for an unknown email, a wrong
// password, a disabled person, a person who has not accepted their invitation and a
// disabled org; the real reason goes to the audit log (`session.refused`) of the person's org.
// Only once the password proved right (and the person and org may sign in) is the second
// factor looked at: a missing or wrong code is then a 401 `mfa_required`, which tells the
// caller nothing they did not know (they gave the right password).
//
// Attempts go through the exchange's machinery: the throttle (its own counters, per client
// and per (client, email), counted before the password is checked and given back when it is
// right — a wrong second-factor code keeps the attempt counted as a failure, a missing one
// gives it back) and the fair argon2 queue shared with exchanges, by client source. Refusals
// anybody can cause for free (a throttled caller) are aggregated as the exchange's are.
import type { Logger } from 'pino';
import type { Db } from '../store/database.js';
import { deleteEndedSessions, insertSession } from '../store/sessions.js';
import { findUserForSignIn, getUser, type SignInRow } from '../store/users.js';
import type { Argon2Queue } from './argon2-queue.js';
import { recordAudit } from './audit.js';
import { createBoundedWindows } from './bounded-windows.js';
import type { Clock } from './clock.js';
import { emailKey } from './emails.js';
import type { SecretHasher } from './hashing.js';
import { tokenDigest } from './opaque-tokens.js';
import { normalizePassword } from './passwords.js';
import { personView, type PersonView } from './people.js';
import type { RefusalAudit } from './refusal-audit.js';
import { enrolmentRestriction, type SessionRestriction } from './enrolment-restriction.js';
import { hasSecondFactor, type SecondFactorCheck, type SecondFactorCodes, type SecondFactorHolder, type SecondFactorRefusal } from './second-factor-check.js';
import { prepareSession, type SessionSettings } from './sessions.js';
import type { Reservation, Throttle } from './throttle.js';
import { throttleSubject } from './throttle-subject.js';

export const SESSION_REFUSED_ACTION = 'session.refused';

export type SignInRefusal = 'unknown_email' | 'wrong_password' | 'invited' | 'disabled' | 'org_disabled' | SecondFactorRefusal;

export interface SignInRequest extends SecondFactorCodes {
  readonly email: string;
  readonly password: string;
  readonly ip: string;
  readonly userAgent: string | null;
}

export type SignInResult =
  | { ok: true; user: PersonView; secret: string; sessionId: string; expiresAt: number; restrictedTo: SessionRestriction | null }
  /** `reason`, `userId` and `orgId` are for the log line and the audit log, never for the caller. */
  | { ok: false; error: 'invalid_credentials'; reason: SignInRefusal; userId: string | null; orgId: string | null }
  /** The password was right; the second factor was missing (`mfa_required`) or not right. */
  | { ok: false; error: 'mfa_required'; reason: SecondFactorRefusal; userId: string; orgId: string }
  | { ok: false; error: 'throttled'; retryAfterSeconds: number }
  | { ok: false; error: 'unavailable'; retryAfterSeconds: number };

export interface SignInDeps {
  readonly db: Db;
  readonly hasher: SecretHasher;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Of kind `signin`. */
  readonly throttle: Throttle;
  /** The exchange's queue: sign-ins and exchanges wait their turn together, by client. */
  readonly argon2Queue?: Argon2Queue;
  /** Writes `session.refused` events aggregated (throttled callers). */
  readonly refusalAudit: RefusalAudit;
  /** An argon2id hash of a random value, made at startup with the server's parameters. */
  readonly dummyPasswordHash: string;
  readonly sessions: SessionSettings;
  readonly secondFactor: SecondFactorCheck;
}

type Throttled = { ok: false; error: 'throttled'; retryAfterSeconds: number };
type Busy = { ok: false; error: 'unavailable'; retryAfterSeconds: number };

/** The outcome of one counted password check. */
export type PasswordCheck = { ok: true } | { ok: false; error: 'wrong_password' } | Throttled | Busy;

/** The outcome of one counted check of a second-factor code. */
export type CodeCheck = { ok: true } | { ok: false; error: 'wrong_code'; reason: SecondFactorRefusal } | Throttled;

/** What the throttle counts a sign-in against besides the client: a digest of the email (no address in the counters' keys). */
const emailSubject = (key: string) => tokenDigest(`signin:${key}`).slice(0, 32);

const THROTTLED_MEMO_MAX = 30_000;
const THROTTLED_MEMO_MS = 60_000;

const SECOND_FACTOR_REFUSALS: ReadonlySet<SignInRefusal> = new Set<SecondFactorRefusal>(['mfa_required', 'wrong_totp', 'totp_replayed', 'wrong_recovery_code']);

/** The caller's answer: `mfa_required` once the password proved right and only the second factor failed, else the one identical refusal. */
function refusalOf(reason: SignInRefusal, person: SignInRow | undefined): SignInResult {
  if (person !== undefined && SECOND_FACTOR_REFUSALS.has(reason)) {
    return { ok: false, error: 'mfa_required', reason: reason as SecondFactorRefusal, userId: person.id, orgId: person.org_id };
  }
  return { ok: false, error: 'invalid_credentials', reason, userId: person?.id ?? null, orgId: person?.org_id ?? null };
}

export function createSignIn(deps: SignInDeps) {
  const { db, clock, throttle } = deps;
  const queue = deps.argon2Queue;
  const throttledOrgs = createBoundedWindows<{ endsAt: number; person: { id: string; org_id: string } | null }>(THROTTLED_MEMO_MAX);

  const busy = (): Busy => ({ ok: false, error: 'unavailable', retryAfterSeconds: queue?.retryAfterSeconds() ?? 1 });

  /** An attempt of (client, email) counted before it is checked, or how long the caller must wait. */
  async function reserve(ip: string, key: string, admits: () => boolean = () => true): Promise<Reservation | Throttled | Busy> {
    const subject = emailSubject(key);
    const blocked = throttle.blockedFor(ip, subject);
    if (blocked !== null) return { ok: false, error: 'throttled', retryAfterSeconds: blocked };
    if (!admits()) return busy();
    const reservation = await throttle.reserve(ip, subject);
    return reservation.granted ? reservation : { ok: false, error: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };
  }

  /**
   * One argon2 verification of `password` against `hash` (the dummy's when null), counted by
   * the throttle under (client, email) before it runs: the attempt is given back when
   * `accept` says so (the password was right, and what else it checks passed or is merely
   * missing), else it stays counted as a failure.
   */
  async function checkPassword(ip: string, key: string, hash: string | null, password: string, accept: (right: boolean) => Promise<boolean>): Promise<PasswordCheck> {
    const source = throttleSubject(ip);
    const reservation = await reserve(ip, key, () => !queue || queue.admits(source));
    if (!('granted' in reservation)) return reservation;
    const verify = () => deps.hasher.verify(hash ?? deps.dummyPasswordHash, normalizePassword(password));
    let right: boolean;
    try {
      const outcome = queue ? await queue.run(source, verify) : { ran: true as const, value: await verify() };
      if (!outcome.ran) {
        await reservation.release();
        return busy();
      }
      right = outcome.value && hash !== null;
      if (await accept(right)) {
        await reservation.release();
        return { ok: true };
      }
    } catch (error) {
      await reservation.release();
      throw error;
    }
    await reservation.fail();
    return { ok: false, error: 'wrong_password' };
  }

  async function refuse(request: SignInRequest, reason: SignInRefusal, person: SignInRow | undefined): Promise<SignInResult> {
    const answer = refusalOf(reason, person);
    if (person !== undefined) {
      try {
        await recordAudit(db, clock, { orgId: person.org_id, actor: 'anonymous', action: SESSION_REFUSED_ACTION, targetType: 'user', targetId: person.id, ip: request.ip, details: { reason } });
      } catch (error) {
        deps.logger.error({ err: error, org_id: person.org_id, user_id: person.id }, 'writing the audit event of a refused sign-in failed');
      }
    }
    return answer;
  }

  /** A throttled attempt, counted in the person's org (looked up once a minute per client and email, so a blocked caller costs no query each). */
  async function throttled(request: SignInRequest, key: string, retryAfterSeconds: number): Promise<SignInResult> {
    const now = clock.now();
    const memo = `${request.ip}|${emailSubject(key)}`;
    let person = throttledOrgs.open(memo, now)?.person;
    if (person === undefined) {
      const row = await findUserForSignIn(db, key);
      person = row === undefined ? null : { id: row.id, org_id: row.org_id };
      throttledOrgs.set(memo, { endsAt: now + THROTTLED_MEMO_MS, person }, now);
    }
    if (person !== null) {
      await deps.refusalAudit.add({ orgId: person.org_id, ip: request.ip, targetId: person.id, reason: 'throttled', details: { retry_after_seconds: retryAfterSeconds } });
    }
    return { ok: false, error: 'throttled', retryAfterSeconds };
  }

  async function signIn(request: SignInRequest): Promise<SignInResult> {
    const key = emailKey(request.email);
    // A caller this process knows is blocked costs no query (its person is looked up once a minute).
    const blocked = throttle.blockedFor(request.ip, emailSubject(key));
    if (blocked !== null) return throttled(request, key, blocked);
    const person = await findUserForSignIn(db, key);
    let via: 'totp' | 'recovery_code' | null = null;
    const why = async (right: boolean): Promise<SignInRefusal | null> => {
      if (person === undefined) return 'unknown_email';
      if (person.status === 'invited') return 'invited';
      if (!right) return 'wrong_password';
      if (person.status !== 'active') return 'disabled';
      if (person.org_disabled_at !== null) return 'org_disabled';
      // Last: accepting a code spends it, which only a sign-in that then succeeds may do.
      if (!hasSecondFactor(person)) return null;
      const second = await deps.secondFactor(person, request, request.ip);
      if (!second.ok) return second.reason;
      via = second.via;
      return null;
    };
    let reason: SignInRefusal | null = null;
    const check = await checkPassword(request.ip, key, person?.password_hash ?? null, request.password, async (right) => {
      reason = await why(right);
      // A missing code costs nothing: the password was right, and the code comes next.
      return reason === null || reason === 'mfa_required';
    });
    if (!check.ok && check.error === 'throttled') return throttled(request, key, check.retryAfterSeconds);
    if (!check.ok && check.error === 'unavailable') return check;
    if (reason !== null || person === undefined) return refuse(request, reason ?? 'unknown_email', person);
    return startSessionFor(person, request, via);
  }

  async function startSessionFor(person: SignInRow, request: SignInRequest, via: 'totp' | 'recovery_code' | null): Promise<SignInResult> {
    const started = prepareSession(clock, deps.sessions, { userId: person.id, orgId: person.org_id, ip: request.ip, userAgent: request.userAgent });
    const now = started.row.created_at;
    const user = await db.transaction().execute(async (trx) => {
      await deleteEndedSessions(trx, person.id, now, now - deps.sessions.idleMs);
      await insertSession(trx, started.row);
      await trx.updateTable('users').set({ last_sign_in_at: now }).where('id', '=', person.id).execute();
      await recordAudit(trx, clock, {
        orgId: person.org_id,
        actor: person.id,
        ip: request.ip,
        action: 'session.created',
        targetType: 'user',
        targetId: person.id,
        details: { session_id: started.row.id, ...(via === null ? {} : { second_factor: via }) },
      });
      return getUser(trx, person.org_id, person.id);
    });
    if (!user) throw new Error('the person signing in vanished');
    const restrictedTo = enrolmentRestriction({ orgRequiresMfa: person.org_require_mfa === 1, mfaEnabledAt: user.mfa_enabled_at });
    return { ok: true, user: await personView(db, user), secret: started.secret, sessionId: started.row.id, expiresAt: started.row.expires_at, restrictedTo };
  }

  /** For a person changing their own password: their current one, counted as a sign-in attempt is. */
  function verifyCurrentPassword(ip: string, person: { email: string; password_hash: string | null }, password: string): Promise<PasswordCheck> {
    return checkPassword(ip, emailKey(person.email), person.password_hash, password, async (right) => right);
  }

  /** For a person removing their own second factor: a current code of it, counted as a sign-in attempt is (a wrong one is a failure). */
  async function verifySecondFactor(ip: string, person: SecondFactorHolder & { email: string }, codes: SecondFactorCodes): Promise<CodeCheck> {
    const reservation = await reserve(ip, emailKey(person.email));
    // Without an `admits` test, reserve answers throttled, never busy: no argon2 runs here.
    if (!('granted' in reservation)) return reservation as Throttled;
    let outcome: Awaited<ReturnType<SecondFactorCheck>>;
    try {
      outcome = await deps.secondFactor(person, codes, ip);
    } catch (error) {
      await reservation.release();
      throw error;
    }
    if (outcome.ok) {
      await reservation.release();
      return { ok: true };
    }
    await reservation.fail();
    return { ok: false, error: 'wrong_code', reason: outcome.reason };
  }

  return { signIn, verifyCurrentPassword, verifySecondFactor };
}

export type SignIn = ReturnType<typeof createSignIn>;
