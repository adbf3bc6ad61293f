// The people of each org. Every read and write but the sign-in lookup is scoped by org, so a
// person of another org is simply not found.
import type { Db } from './database.js';
import type { ListWindow } from './apps.js';
import type { UsersTable } from './schema.js';

export type UserRow = UsersTable;

export async function insertUser(db: Db, row: UserRow): Promise<void> {
  await db.insertInto('users').values(row).execute();
}

export async function getUser(db: Db, orgId: string, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
}

/** A person by email, in any org (the email is unique in the deployment). */
export async function getUserByEmailKey(db: Db, emailKey: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
}

/** What sign-in needs about a person and their org, in one read. */
export interface SignInRow {
  readonly id: string;
  readonly org_id: string;
  readonly status: string;
  readonly role: string;
  readonly password_hash: string | null;
  readonly totp_secret_encrypted: string | null;
  readonly mfa_enabled_at: number | null;
  readonly org_disabled_at: number | null;
  readonly org_require_mfa: number;
}

export async function findUserForSignIn(db: Db, emailKey: string): Promise<SignInRow | undefined> {
  return db
    .selectFrom('users as u')
    .innerJoin('orgs as o', 'o.id', 'u.org_id')
    .select(['u.id', 'u.org_id', 'u.status', 'u.role', 'u.password_hash', 'u.totp_secret_encrypted', 'u.mfa_enabled_at', 'o.disabled_at as org_disabled_at', 'o.require_mfa as org_require_mfa'])
    .where('u.email_key', '=', emailKey)
    .executeTakeFirst();
}

/** People of the org, newest first. */
export async function listUsers(db: Db, orgId: string, window: ListWindow): Promise<UserRow[]> {
  let query = db.selectFrom('users').selectAll().where('org_id', '=', orgId);
  if (window.before !== null) query = query.where('id', '<', window.before);
  return query.orderBy('id', 'desc').limit(window.limit).execute();
}

export type UserChanges = Partial<Pick<UserRow, 'name' | 'role' | 'status' | 'password_hash' | 'last_sign_in_at' | 'email' | 'email_key'>> & {
  updated_at?: number;
};

/** Changes a person of the org; undefined when there is none. */
export async function updateUser(db: Db, orgId: string, id: string, changes: UserChanges): Promise<UserRow | undefined> {
  const result = await db.updateTable('users').set(changes).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return undefined;
  return getUser(db, orgId, id);
}

/** Deletes a person of the org (their sessions, links and recovery codes go with them); false when there is none. */
export async function deleteUser(db: Db, orgId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('users').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Active owners of the org, leaving out `exceptUserId`. */
export async function countActiveOwners(db: Db, orgId: string, exceptUserId?: string): Promise<number> {
  let query = db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('org_id', '=', orgId)
    .where('role', '=', 'owner')
    .where('status', '=', 'active');
  if (exceptUserId !== undefined) query = query.where('id', '!=', exceptUserId);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

/** The names of these people, by id (ids of nobody are left out). */
export async function userNames(db: Db, ids: readonly string[]): Promise<{ id: string; name: string }[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('users').select(['id', 'name']).where('id', 'in', [...ids]).execute();
}

/** A unique index refused a row (two invitations of one new email at once), on either dialect. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
