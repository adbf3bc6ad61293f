// Admin use cases for people (admin.users:full): list, read, invite, change (role, status,
// name), delete, and issue a password-reset link. Every store call is scoped by the actor's
// org, so a person of another org is a 404. Least privilege applies as for apps: an admin
// acts only on a person whose role's scopes are within their own, and gives no role holding
// more than they hold. Disabling a person, changing their role or resetting their password
// ends their sessions at once.
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import type { Db } from '../store/database.js';
import { getOrg } from '../store/orgs.js';
import * as store from '../store/users.js';
import type { UserRow } from '../store/users.js';
import { requireActorScope, type Actor, type AdminDeps } from './actor.js';
import { actorNames, type ActorNames } from './actor-names.js';
import type { Forceable } from './apps.js';
import { checkName } from './apps.js';
import { recordActorAudit } from './audit.js';
import { newId } from './credentials.js';
import { checkEmail } from './emails.js';
import { forcedOwnerDetails, guardLastOwner } from './last-owner.js';
import { requireGrantWithinCaller, requireWithinCaller } from './least-privilege.js';
import { pageQuery, toPage, type Page, type PageInput } from './pagination.js';
import { isRole, ROLES, roleScopes, type Role } from './roles.js';
import { endSessionsOf } from './session-ends.js';
import { issueLink } from './user-links.js';

export const USER_STATUSES = ['active', 'invited', 'disabled'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/** A person as the admin API and CLI show them: never a password hash, TOTP secret or link. */
export interface PersonView {
  readonly id: string;
  readonly org_id: string;
  readonly email: string;
  readonly name: string;
  readonly role: string;
  readonly status: string;
  readonly created_at: number;
  readonly created_by: string;
  readonly created_by_name: string | null;
  readonly last_sign_in_at: number | null;
  readonly mfa_enabled: boolean;
}

export function toPersonView(row: UserRow, names: ActorNames): PersonView {
  return {
    id: row.id,
    org_id: row.org_id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    created_at: row.created_at,
    created_by: row.created_by,
    created_by_name: names(row.created_by),
    last_sign_in_at: row.last_sign_in_at,
    mfa_enabled: row.mfa_enabled_at !== null,
  };
}

export async function personView(db: Db, row: UserRow): Promise<PersonView> {
  return toPersonView(row, await actorNames(db, [row.created_by]));
}

export function userNotFound(userId: string): NotFoundError {
  return new NotFoundError(`no person ${userId} in this organization`);
}

export function checkRole(role: string): Role {
  if (!isRole(role)) throw new InvalidRequestError(`role: expected one of ${ROLES.join(', ')}`);
  return role;
}

async function orgIsRoot(deps: Pick<AdminDeps, 'db'>, orgId: string): Promise<boolean> {
  return (await getOrg(deps.db, orgId))?.is_root === 1;
}

/** A person of the actor's org, or NotFoundError. */
async function findUser(deps: Pick<AdminDeps, 'db'>, actor: Actor, userId: string): Promise<UserRow> {
  const user = await store.getUser(deps.db, actor.orgId, userId);
  if (!user) throw userNotFound(userId);
  return user;
}

/** A person the actor may change: one whose role's power over this server is within the actor's own. */
export async function findUserToChange(deps: AdminDeps, actor: Actor, userId: string): Promise<UserRow> {
  requireActorScope(actor, 'admin.users:full');
  const user = await findUser(deps, actor, userId);
  requireWithinCaller(deps.catalog, actor, roleScopes(deps.catalog, checkRole(user.role), await orgIsRoot(deps, actor.orgId)));
  return user;
}

export async function listUsers(deps: AdminDeps, actor: Actor, input: PageInput = {}): Promise<Page<PersonView>> {
  requireActorScope(actor, 'admin.users:full');
  const query = pageQuery(input);
  const rows = await store.listUsers(deps.db, actor.orgId, { limit: query.limit + 1, before: query.before });
  const names = await actorNames(deps.db, rows.map((row) => row.created_by));
  return toPage(rows, query, (row) => toPersonView(row, names));
}

export async function getUser(deps: AdminDeps, actor: Actor, input: { userId: string }): Promise<PersonView> {
  requireActorScope(actor, 'admin.users:full');
  return personView(deps.db, await findUser(deps, actor, input.userId));
}

export interface Invited {
  readonly user: PersonView;
  /** The one-time link to hand to the person; shown once. */
  readonly invitationUrl: string;
}

function linkSettings(deps: AdminDeps) {
  return { clock: deps.clock, issuer: deps.config.issuer, ttlSeconds: deps.config.people.invitationTtlSeconds };
}

const emailTaken = () => new ConflictError('email: a person with this email address already exists');

/**
 * Invites an email with a role: a person `invited` until they accept, and a one-time link.
 * Inviting someone still invited replaces their link (and sets the new role).
 */
export async function inviteUser(deps: AdminDeps, actor: Actor, input: { email: string; role: string }): Promise<Invited> {
  requireActorScope(actor, 'admin.users:full');
  const { email, key } = checkEmail(input.email);
  const role = checkRole(input.role);
  const root = await orgIsRoot(deps, actor.orgId);
  requireGrantWithinCaller(deps.catalog, actor, roleScopes(deps.catalog, role, root));
  const existing = await store.getUserByEmailKey(deps.db, key);
  if (existing && (existing.org_id !== actor.orgId || existing.status !== 'invited')) throw emailTaken();
  if (existing) requireWithinCaller(deps.catalog, actor, roleScopes(deps.catalog, checkRole(existing.role), root));
  const now = deps.clock.now();
  try {
    return await deps.db.transaction().execute(async (trx) => {
      let row: UserRow;
      if (existing) {
        const updated = await store.updateUser(trx, actor.orgId, existing.id, { role, email, email_key: key, updated_at: now });
        if (!updated || updated.status !== 'invited') throw emailTaken();
        row = updated;
      } else {
        row = {
          id: newId('user', now),
          org_id: actor.orgId,
          email,
          email_key: key,
          name: '',
          role,
          status: 'invited',
          password_hash: null,
          created_at: now,
          created_by: actor.id,
          updated_at: now,
          last_sign_in_at: null,
          totp_secret_encrypted: null,
          totp_last_step: null,
          mfa_enabled_at: null,
        };
        await store.insertUser(trx, row);
      }
      const invitationUrl = await issueLink(trx, linkSettings(deps), { purpose: 'invitation', orgId: actor.orgId, userId: row.id, role, actorId: actor.id });
      // The email stays out of the audit log, as out of every log: the person's id names them.
      await recordActorAudit(trx, deps.clock, actor, { action: 'user.invited', targetType: 'user', targetId: row.id, details: { role, again: existing !== undefined } });
      return { user: await personView(trx, row), invitationUrl };
    });
  } catch (error) {
    if (store.isUniqueViolation(error)) throw emailTaken();
    throw error;
  }
}

export interface UpdateUserInput extends Forceable {
  readonly userId: string;
  readonly role?: string;
  /** active | disabled. */
  readonly status?: string;
  readonly name?: string;
}

/** Changes a person's role, status or name; a new role or disabling ends their sessions at once. */
export async function updateUser(deps: AdminDeps, actor: Actor, input: UpdateUserInput): Promise<PersonView> {
  requireActorScope(actor, 'admin.users:full');
  const current = await findUserToChange(deps, actor, input.userId);
  const changes: store.UserChanges = {};
  if (input.name !== undefined) changes.name = checkName('name', input.name);
  if (input.role !== undefined) {
    const role = checkRole(input.role);
    requireGrantWithinCaller(deps.catalog, actor, roleScopes(deps.catalog, role, await orgIsRoot(deps, actor.orgId)));
    changes.role = role;
  }
  if (input.status !== undefined) {
    if (input.status !== 'active' && input.status !== 'disabled') throw new InvalidRequestError('status: expected active or disabled');
    if (current.status === 'invited') {
      throw new ConflictError('this person has not accepted their invitation yet: invite them again, or delete them');
    }
    changes.status = input.status;
  }
  const diff: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of ['name', 'role', 'status'] as const) {
    const to = changes[field];
    if (to !== undefined && to !== current[field]) diff[field] = { from: current[field], to };
  }
  if (Object.keys(diff).length === 0) return personView(deps.db, current);
  const demotes = (diff['role'] !== undefined && changes.role !== 'owner') || changes.status === 'disabled';
  const updated = await deps.db.transaction().execute(async (trx) => {
    const guard = demotes ? await guardLastOwner(trx, actor, current, input) : { forced: false };
    const row = await store.updateUser(trx, actor.orgId, current.id, { ...changes, updated_at: deps.clock.now() });
    if (!row) throw userNotFound(current.id);
    await recordActorAudit(trx, deps.clock, actor, {
      action: 'user.updated',
      targetType: 'user',
      targetId: row.id,
      details: { changes: diff, ...forcedOwnerDetails(guard) },
    });
    if (diff['status'] !== undefined && row.status === 'disabled') await endSessionsOf(trx, deps.clock, actor, row, 'disabled');
    else if (diff['role'] !== undefined) await endSessionsOf(trx, deps.clock, actor, row, 'role_changed');
    return row;
  });
  return personView(deps.db, updated);
}

/** Deletes a person for good: their sessions and links end with them; the audit log keeps their id. */
export async function deleteUser(deps: AdminDeps, actor: Actor, input: { userId: string } & Forceable): Promise<void> {
  requireActorScope(actor, 'admin.users:full');
  const current = await findUserToChange(deps, actor, input.userId);
  await deps.db.transaction().execute(async (trx) => {
    const guard = await guardLastOwner(trx, actor, current, input);
    await endSessionsOf(trx, deps.clock, actor, current, 'deleted');
    if (!(await store.deleteUser(trx, actor.orgId, current.id))) throw userNotFound(current.id);
    await recordActorAudit(trx, deps.clock, actor, {
      action: 'user.deleted',
      targetType: 'user',
      targetId: current.id,
      details: { role: current.role, ...forcedOwnerDetails(guard) },
    });
  });
}

export interface ResetIssued {
  readonly user: PersonView;
  /** The one-time link to hand to the person; shown once. */
  readonly resetUrl: string;
}

/**
 * A password-reset link for an active person (a new one replaces the last). Their sessions
 * end now: whoever asks for a reset may suspect the password, and so whoever holds it.
 */
export async function issuePasswordReset(deps: AdminDeps, actor: Actor, input: { userId: string }): Promise<ResetIssued> {
  requireActorScope(actor, 'admin.users:full');
  const current = await findUserToChange(deps, actor, input.userId);
  if (current.status !== 'active') {
    throw new ConflictError(
      current.status === 'invited'
        ? 'this person has not accepted their invitation yet: invite them again instead'
        : 'this person is disabled: enable them first',
    );
  }
  const resetUrl = await deps.db.transaction().execute(async (trx) => {
    const url = await issueLink(trx, linkSettings(deps), { purpose: 'password_reset', orgId: actor.orgId, userId: current.id, role: current.role, actorId: actor.id });
    await recordActorAudit(trx, deps.clock, actor, { action: 'user.password_reset_issued', targetType: 'user', targetId: current.id, details: {} });
    await endSessionsOf(trx, deps.clock, actor, current, 'password_reset');
    return url;
  });
  return { user: await personView(deps.db, current), resetUrl };
}
