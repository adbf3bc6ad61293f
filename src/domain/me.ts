// A signed-in person's own use cases: who they are, their name and password, and their
// sessions (list, end one, end every other: "sign out everywhere"), and signing out. An
// owner (admin.users:full) sees and ends another person's sessions the same way.
import { InvalidRequestError, NotFoundError, ThrottledError, UnavailableError } from '../errors.js';
import type { SessionRow } from '../store/sessions.js';
import { listUserSessions } from '../store/sessions.js';
import { getOrg } from '../store/orgs.js';
import * as users from '../store/users.js';
import type { UserRow } from '../store/users.js';
import { requireActorScope, type Actor, type AdminDeps } from './actor.js';
import { checkName } from './apps.js';
import { recordAudit } from './audit.js';
import { pageQuery, toPage, type Page, type PageInput } from './pagination.js';
import { checkNewPassword } from './passwords.js';
import { findUserToChange, personView, type PersonView } from './people.js';
import { endSession, endSessionsOf } from './session-ends.js';
import { sessionSettings, type SessionCaller } from './sessions.js';
import type { PasswordCheck } from './sign-in.js';

export interface Me {
  readonly user: PersonView;
  readonly org: { readonly id: string; readonly name: string; readonly isRoot: boolean; readonly requireMfa: boolean };
  readonly role: string;
  /** The session's scopes, as every admin route checks them. */
  readonly scopes: string[];
  readonly session: { readonly id: string; readonly expiresAt: number };
}

async function self(deps: Pick<AdminDeps, 'db'>, caller: SessionCaller): Promise<UserRow> {
  const row = await users.getUser(deps.db, caller.orgId, caller.userId);
  // The session was read with its person a moment ago; gone since means signed out.
  if (!row) throw new NotFoundError('you no longer exist in this organization');
  return row;
}

export async function getMe(deps: Pick<AdminDeps, 'db'>, caller: SessionCaller): Promise<Me> {
  const [row, org] = await Promise.all([self(deps, caller), getOrg(deps.db, caller.orgId)]);
  return {
    user: await personView(deps.db, row),
    org: { id: caller.orgId, name: org?.name ?? '', isRoot: org?.is_root === 1, requireMfa: org?.require_mfa === 1 },
    role: caller.role,
    scopes: [...caller.scopes].sort(),
    session: { id: caller.sessionId, expiresAt: caller.expiresAt },
  };
}

export interface UpdateMeInput {
  readonly name?: string;
  readonly currentPassword?: string;
  readonly newPassword?: string;
}

export type VerifyCurrentPassword = (ip: string, person: { email: string; password_hash: string | null }, password: string) => Promise<PasswordCheck>;

/**
 * Renames the person, or changes their password: the current one is checked (counted by the
 * sign-in throttle, so a stolen session cannot guess it), and every other session ends.
 */
export async function updateMe(deps: Pick<AdminDeps, 'db' | 'hasher' | 'clock'>, verify: VerifyCurrentPassword, caller: SessionCaller, ip: string, input: UpdateMeInput): Promise<PersonView> {
  const current = await self(deps, caller);
  const name = input.name === undefined ? undefined : checkName('name', input.name);
  let passwordHash: string | undefined;
  if (input.newPassword !== undefined) {
    if (input.currentPassword === undefined) throw new InvalidRequestError('current_password: required to change your password');
    const password = checkNewPassword(input.newPassword, current.email, 'new_password');
    const check = await verify(ip, current, input.currentPassword);
    if (!check.ok) {
      if (check.error === 'throttled') throw new ThrottledError('too many wrong passwords; try again later', { extra: { retry_after_seconds: check.retryAfterSeconds } });
      if (check.error === 'unavailable') throw new UnavailableError('the server is busy; retry later', { extra: { retry_after_seconds: check.retryAfterSeconds } });
      throw new InvalidRequestError('current_password: that is not your current password');
    }
    passwordHash = await deps.hasher.hash(password);
  } else if (input.currentPassword !== undefined) {
    throw new InvalidRequestError('new_password: required with current_password');
  }
  if (name === undefined && passwordHash === undefined) return personView(deps.db, current);
  const by = { id: caller.userId, ip };
  const row = await deps.db.transaction().execute(async (trx) => {
    const updated = await users.updateUser(trx, caller.orgId, caller.userId, {
      ...(name === undefined ? {} : { name }),
      ...(passwordHash === undefined ? {} : { password_hash: passwordHash }),
      updated_at: deps.clock.now(),
    });
    if (!updated) throw new NotFoundError('you no longer exist in this organization');
    const audit = { orgId: caller.orgId, actor: caller.userId, ip, targetType: 'user', targetId: caller.userId };
    if (name !== undefined && name !== current.name) {
      await recordAudit(trx, deps.clock, { ...audit, action: 'user.updated', details: { changes: { name: { from: current.name, to: name } } } });
    }
    if (passwordHash !== undefined) {
      await recordAudit(trx, deps.clock, { ...audit, action: 'user.password_changed', details: {} });
      await endSessionsOf(trx, deps.clock, by, updated, 'password_changed', caller.sessionId);
    }
    return updated;
  });
  return personView(deps.db, row);
}

/** A session as its person (or an owner) sees it: never its secret, its digest or its CSRF token. */
export interface SessionView {
  readonly id: string;
  readonly created_at: number;
  readonly last_seen_at: number;
  readonly expires_at: number;
  readonly ip: string | null;
  readonly user_agent: string | null;
  /** The session the request came with. */
  readonly current: boolean;
}

function toSessionView(row: SessionRow, currentId: string | null): SessionView {
  return {
    id: row.id,
    created_at: row.created_at,
    last_seen_at: row.last_seen_at,
    expires_at: row.expires_at,
    ip: row.ip,
    user_agent: row.user_agent,
    current: row.id === currentId,
  };
}

type SessionDeps = Pick<AdminDeps, 'db' | 'clock' | 'config'>;

async function openSessions(deps: SessionDeps, userId: string, currentId: string | null, input: PageInput): Promise<Page<SessionView>> {
  const query = pageQuery(input);
  const now = deps.clock.now();
  const rows = await listUserSessions(deps.db, userId, {
    now,
    idleSince: now - sessionSettings(deps.config.people).idleMs,
    limit: query.limit + 1,
    before: query.before,
  });
  return toPage(rows, query, (row) => toSessionView(row, currentId));
}

export function listMySessions(deps: SessionDeps, caller: SessionCaller, input: PageInput = {}): Promise<Page<SessionView>> {
  return openSessions(deps, caller.userId, caller.sessionId, input);
}

const sessionNotFound = (id: string) => new NotFoundError(`no session ${id} of yours`);

/** Ends one of the person's sessions (the current one too: that is a sign-out). */
export async function endMySession(deps: SessionDeps, caller: SessionCaller, ip: string, sessionId: string): Promise<void> {
  const person = { id: caller.userId, org_id: caller.orgId };
  const reason = sessionId === caller.sessionId ? 'signed_out' : 'revoked';
  const ended = await deps.db.transaction().execute((trx) => endSession(trx, deps.clock, { id: caller.userId, ip }, person, sessionId, reason));
  if (!ended) throw sessionNotFound(sessionId);
}

/** "Sign out everywhere else": every session of the person but this one. */
export async function endMyOtherSessions(deps: SessionDeps, caller: SessionCaller, ip: string): Promise<number> {
  const person = { id: caller.userId, org_id: caller.orgId };
  return deps.db.transaction().execute((trx) => endSessionsOf(trx, deps.clock, { id: caller.userId, ip }, person, 'revoked', caller.sessionId));
}

async function personOf(deps: Pick<AdminDeps, 'db'>, actor: Actor, userId: string): Promise<UserRow> {
  requireActorScope(actor, 'admin.users:full');
  const row = await users.getUser(deps.db, actor.orgId, userId);
  if (!row) throw new NotFoundError(`no person ${userId} in this organization`);
  return row;
}

/** An owner's view of another person's open sessions. */
export async function listUserSessionsOf(deps: SessionDeps, actor: Actor, input: PageInput & { userId: string }): Promise<Page<SessionView>> {
  const person = await personOf(deps, actor, input.userId);
  return openSessions(deps, person.id, null, input);
}

/** An owner ends every session of a person (one whose role is within the owner's own power). */
export async function endUserSessions(deps: AdminDeps, actor: Actor, input: { userId: string }): Promise<number> {
  const person = await findUserToChange(deps, actor, input.userId);
  return deps.db.transaction().execute((trx) => endSessionsOf(trx, deps.clock, actor, person, 'revoked'));
}
