// Using a one-time link (user-links.ts): reading what it is for, and accepting it. An
// invitation sets the person's name and password and makes them active; the first start's
// open invitation creates the root org's first owner with the email given here; a password
// reset sets a new password and ends every other session. Either way the answer is a new
// session — but not for a reset of a person with a second factor: a link is no second
// factor, so they sign in with the new password and a code. An unknown, used or expired
// link, or one whose person or org changed since, is one identical 404.
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { Db } from '../store/database.js';
import { insertSession } from '../store/sessions.js';
import { consumeLink, deleteUserLinks, findLink, type LinkView } from '../store/user-links.js';
import * as users from '../store/users.js';
import type { AdminDeps } from './actor.js';
import { checkName } from './apps.js';
import { recordAudit } from './audit.js';
import { newId } from './credentials.js';
import { checkEmail } from './emails.js';
import { isTokenShape, tokenDigest } from './opaque-tokens.js';
import { checkNewPassword } from './passwords.js';
import { personView, type PersonView } from './people.js';
import { enrolmentRestriction, type SessionRestriction } from './enrolment-restriction.js';
import { endSessionsOf } from './session-ends.js';
import { prepareSession, sessionSettings } from './sessions.js';

export type InvitationDeps = Pick<AdminDeps, 'db' | 'hasher' | 'clock' | 'config'>;

const unusable = () => new NotFoundError('this link is unknown, used or expired; ask for a new one');

export interface LinkInfo {
  readonly purpose: 'invitation' | 'password_reset';
  /** Null for the first start's invitation of the root org's first owner: the email is given on accepting. */
  readonly email: string | null;
  readonly orgId: string;
  readonly orgName: string;
  readonly role: string;
  readonly expiresAt: number;
}

/** The link while it may be used now, or NotFoundError. */
async function usableLink(db: Db, now: number, token: string): Promise<LinkView> {
  const link = isTokenShape(token) ? await findLink(db, tokenDigest(token)) : undefined;
  if (!link || link.expires_at <= now || link.org_disabled_at !== null) throw unusable();
  const wanted = link.purpose === 'invitation' ? 'invited' : 'active';
  if (link.user_id !== null && link.user_status !== wanted) throw unusable();
  if (link.user_id === null && link.purpose !== 'invitation') throw unusable();
  return link;
}

export async function readLink(deps: InvitationDeps, token: string): Promise<LinkInfo> {
  const link = await usableLink(deps.db, deps.clock.now(), token);
  return {
    purpose: link.purpose === 'invitation' ? 'invitation' : 'password_reset',
    email: link.user_email,
    orgId: link.org_id,
    orgName: link.org_name,
    role: link.user_role ?? link.role,
    expiresAt: link.expires_at,
  };
}

export interface AcceptInput {
  readonly name?: string;
  readonly password: string;
  /** Only for the first start's open invitation, which names no email. */
  readonly email?: string;
}

export interface StartedSession {
  readonly secret: string;
  readonly sessionId: string;
  readonly expiresAt: number;
  readonly restrictedTo: SessionRestriction | null;
}

export interface Accepted {
  readonly purpose: LinkInfo['purpose'];
  readonly user: PersonView;
  /** Null after a password reset of a person with a second factor: they sign in with it. */
  readonly session: StartedSession | null;
}

/** Accepts an invitation or a password reset, and signs the person in. */
export async function acceptLink(deps: InvitationDeps, token: string, input: AcceptInput, from: { ip: string | null; userAgent: string | null }): Promise<Accepted> {
  const clock = deps.clock;
  const link = await usableLink(deps.db, clock.now(), token);
  const invitation = link.purpose === 'invitation';
  let email: { email: string; key: string } | null = null;
  if (link.user_id === null) {
    if (input.email === undefined) throw new InvalidRequestError('email: required: this invitation is for the first owner, who gives their email address');
    email = checkEmail(input.email);
  } else if (input.email !== undefined && checkEmail(input.email).key !== link.user_email!.toLowerCase()) {
    throw new InvalidRequestError('email: this link is for another email address');
  }
  if (invitation && input.name === undefined) throw new InvalidRequestError('name: required to accept an invitation');
  const name = input.name === undefined ? undefined : checkName('name', input.name);
  const password = checkNewPassword(input.password, email?.email ?? link.user_email);
  // Hashed before the transaction: argon2 is slow and SQLite has one writer.
  const passwordHash = await deps.hasher.hash(password);
  const now = clock.now();
  const userId = link.user_id ?? newId('user', now);
  const session = prepareSession(clock, sessionSettings(deps.config.people), { userId, orgId: link.org_id, ip: from.ip, userAgent: from.userAgent });
  const by = { id: userId, ip: from.ip };
  try {
    const { row, signedIn } = await deps.db.transaction().execute(async (trx) => {
      if (!(await consumeLink(trx, link.token_hash, now))) throw unusable();
      if (email !== null) {
        await users.insertUser(trx, {
          id: userId,
          org_id: link.org_id,
          email: email.email,
          email_key: email.key,
          name: name ?? '',
          role: link.role,
          status: 'active',
          password_hash: passwordHash,
          created_at: now,
          created_by: link.created_by,
          updated_at: now,
          last_sign_in_at: now,
          totp_secret_encrypted: null,
          totp_last_step: null,
          mfa_enabled_at: null,
        });
      } else {
        const result = await trx
          .updateTable('users')
          .set({ password_hash: passwordHash, status: 'active', updated_at: now, last_sign_in_at: now, ...(name === undefined ? {} : { name }) })
          .where('id', '=', userId)
          .where('status', '=', invitation ? 'invited' : 'active')
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) throw unusable();
      }
      await deleteUserLinks(trx, userId);
      const changed = await users.getUser(trx, link.org_id, userId);
      if (!changed) throw unusable();
      const signsIn = invitation || changed.mfa_enabled_at === null;
      const person = { id: userId, org_id: link.org_id };
      if (!invitation) await endSessionsOf(trx, clock, by, person, 'password_reset');
      await recordAudit(trx, clock, {
        orgId: link.org_id,
        actor: userId,
        ip: from.ip,
        action: invitation ? 'user.joined' : 'user.password_reset',
        targetType: 'user',
        targetId: userId,
        details: invitation ? { role: link.role } : {},
      });
      if (!signsIn) return { row: changed, signedIn: false };
      await insertSession(trx, session.row);
      await recordAudit(trx, clock, {
        orgId: link.org_id,
        actor: userId,
        ip: from.ip,
        action: 'session.created',
        targetType: 'user',
        targetId: userId,
        details: { session_id: session.row.id, via: link.purpose },
      });
      return { row: changed, signedIn: true };
    });
    const restrictedTo = enrolmentRestriction({ orgRequiresMfa: link.org_require_mfa === 1, mfaEnabledAt: row.mfa_enabled_at });
    return {
      purpose: invitation ? 'invitation' : 'password_reset',
      user: await personView(deps.db, row),
      session: signedIn ? { secret: session.secret, sessionId: session.row.id, expiresAt: session.row.expires_at, restrictedTo } : null,
    };
  } catch (error) {
    if (users.isUniqueViolation(error)) throw new ConflictError('email: a person with this email address already exists');
    throw error;
  }
}
