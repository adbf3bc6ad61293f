// Sign-in: an email and a password (and, once the second factor exists, its code) in, a
// session out. Every attempt costs exactly one argon2 verification, whatever the outcome: an
// unknown email, or a person without a password yet (invited), is verified against a fixed
// dummy hash made at startup with the same parameters, so neither the answer nor its timing
// tells which emails exist. The answer is one identical 401 for an unknown email, a wrong
// password, a disabled person, a person who has not accepted their invitation and a
// disabled org; the real reason goes to the audit log (`session.refused`) of the person's org.
//
// Attempts go through the exchange's machinery: the throttle (its own counters, per client
// and per (client, email), counted before the password is checked and given back when it is
// right) and the fair argon2 queue shared with exchanges, by client source. Refusals anybody
// can cause for free (a throttled caller) are aggregated as the exchange's are.
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
import { prepareSession, type SessionSettings } from './sessions.js';
import type { Throttle } from './throttle.js';
import { throttleSubject } from './throttle-subject.js';

export const SESSION_REFUSED_ACTION = 'session.refused';

export type SignInRefusal = 'unknown_email' | 'wrong_password' | 'invited' | 'disabled' | 'org_disabled' | 'second_factor';

export interface SignInRequest {
  readonly email: string;
  readonly password: string;
  /** A second-factor code (6 digits), checked by secondFactorRefusal. */
  readonly totp?: string;
  readonly ip: string;
  readonly userAgent: string | null;
}

export type SignInResult =
  | { ok: true; user: PersonView; secret: string; sessionId: string; expiresAt: number }
  /** `reason`, `userId` and `orgId` are for the log line and the audit log, never for the caller. */
  | { ok: false; error: 'invalid_credentials'; reason: SignInRefusal; userId: string | null; orgId: string | null }
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
}

/** The outcome of one counted password check. */
export type PasswordCheck =
  | { ok: true }
  | { ok: false; error: 'wrong_password' }
  | { ok: false; error: 'throttled'; retryAfterSeconds: number }
  | { ok: false; error: 'unavailable'; retryAfterSeconds: number };

/** What the throttle counts a sign-in against besides the client: a digest of the email (no address in the counters' keys). */
const emailSubject = (key: string) => tokenDigest(`signin:${key}`).slice(0, 32);

const THROTTLED_MEMO_MAX = 30_000;
const THROTTLED_MEMO_MS = 60_000;

/**
 * The second factor's one check, in one place: null when the person may go on. Nobody can
 * enrol a second factor yet, so everybody passes and `totp` is not looked at; the second
 * factor's TOTP and recovery-code checks (and an org's require_mfa) go here.
 */
export async function secondFactorRefusal(person: Pick<SignInRow, 'mfa_enabled_at'>, _totp: string | undefined): Promise<SignInRefusal | null> {
  return person.mfa_enabled_at === null ? null : 'second_factor';
}

export function createSignIn(deps: SignInDeps) {
  const { db, clock, throttle } = deps;
  const queue = deps.argon2Queue;
  const throttledOrgs = createBoundedWindows<{ endsAt: number; person: { id: string; org_id: string } | null }>(THROTTLED_MEMO_MAX);

  const busy = (): PasswordCheck => ({ ok: false, error: 'unavailable', retryAfterSeconds: queue?.retryAfterSeconds() ?? 1 });

  /**
   * One argon2 verification of `password` against `hash` (the dummy's when null), counted by
   * the throttle under (client, email) before it runs: the attempt is given back when
   * `accept` says the password was right and may be used.
   */
  async function checkPassword(ip: string, key: string, hash: string | null, password: string, accept: (right: boolean) => boolean): Promise<PasswordCheck> {
    const subject = emailSubject(key);
    const blocked = throttle.blockedFor(ip, subject);
    if (blocked !== null) return { ok: false, error: 'throttled', retryAfterSeconds: blocked };
    const source = throttleSubject(ip);
    if (queue && !queue.admits(source)) return busy();
    const reservation = await throttle.reserve(ip, subject);
    if (!reservation.granted) return { ok: false, error: 'throttled', retryAfterSeconds: reservation.retryAfterSeconds };
    const verify = () => deps.hasher.verify(hash ?? deps.dummyPasswordHash, normalizePassword(password));
    let right: boolean;
    try {
      const outcome = queue ? await queue.run(source, verify) : { ran: true as const, value: await verify() };
      if (!outcome.ran) {
        await reservation.release();
        return busy();
      }
      right = outcome.value && hash !== null;
    } catch (error) {
      await reservation.release();
      throw error;
    }
    if (accept(right)) {
      await reservation.release();
      return { ok: true };
    }
    await reservation.fail();
    return { ok: false, error: 'wrong_password' };
  }

  async function refuse(request: SignInRequest, reason: SignInRefusal, person: SignInRow | undefined): Promise<SignInResult> {
    if (person !== undefined) {
      try {
        await recordAudit(db, clock, { orgId: person.org_id, actor: 'anonymous', action: SESSION_REFUSED_ACTION, targetType: 'user', targetId: person.id, ip: request.ip, details: { reason } });
      } catch (error) {
        deps.logger.error({ err: error, org_id: person.org_id, user_id: person.id }, 'writing the audit event of a refused sign-in failed');
      }
    }
    return { ok: false, error: 'invalid_credentials', reason, userId: person?.id ?? null, orgId: person?.org_id ?? null };
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
    const why = (right: boolean): SignInRefusal | null => {
      if (person === undefined) return 'unknown_email';
      if (person.status === 'invited') return 'invited';
      if (!right) return 'wrong_password';
      if (person.status !== 'active') return 'disabled';
      if (person.org_disabled_at !== null) return 'org_disabled';
      return null;
    };
    let reason: SignInRefusal | null = null;
    const check = await checkPassword(request.ip, key, person?.password_hash ?? null, request.password, (right) => (reason = why(right)) === null);
    if (!check.ok && check.error === 'throttled') return throttled(request, key, check.retryAfterSeconds);
    if (!check.ok && check.error === 'unavailable') return check;
    if (reason !== null || person === undefined) return refuse(request, reason ?? 'unknown_email', person);
    const second = await secondFactorRefusal(person, request.totp);
    if (second !== null) return refuse(request, second, person);
    return startSessionFor(person, request);
  }

  async function startSessionFor(person: SignInRow, request: SignInRequest): Promise<SignInResult> {
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
        details: { session_id: started.row.id },
      });
      return getUser(trx, person.org_id, person.id);
    });
    if (!user) throw new Error('the person signing in vanished');
    return { ok: true, user: await personView(db, user), secret: started.secret, sessionId: started.row.id, expiresAt: started.row.expires_at };
  }

  /** For a person changing their own password: their current one, counted as a sign-in attempt is. */
  function verifyCurrentPassword(ip: string, person: { email: string; password_hash: string | null }, password: string): Promise<PasswordCheck> {
    return checkPassword(ip, emailKey(person.email), person.password_hash, password, (right) => right);
  }

  return { signIn, verifyCurrentPassword };
}

export type SignIn = ReturnType<typeof createSignIn>;
