// People's sessions. A session-authenticated request reads its row by the hash of the
// cookie's value, joined with its person and org: one indexed read, so a disabled person, a
// changed role, a reset password or a sign-out applies at once on every instance.
import { PreparingDb, type Db } from './database.js';
import type { ListWindow } from './apps.js';
import type { SessionsTable } from './schema.js';

export type SessionRow = SessionsTable;

export async function insertSession(db: Db, row: SessionRow): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

/** A session with what authorizing a request needs about its person and org. `id` is the token hash (the batched read's key). */
export interface SessionAuthRow {
  readonly id: string;
  readonly session_id: string;
  readonly user_id: string;
  readonly org_id: string;
  readonly created_at: number;
  readonly last_seen_at: number;
  readonly expires_at: number;
  readonly restricted_to: string | null;
  readonly user_status: string;
  readonly user_role: string;
  readonly org_is_root: number;
  readonly org_disabled_at: number | null;
  readonly org_require_mfa: number;
  readonly user_mfa_enabled_at: number | null;
}

function sessionAuthSelect(db: Db) {
  return db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .innerJoin('orgs as o', 'o.id', 's.org_id')
    .select([
      's.token_hash as id',
      's.id as session_id',
      's.user_id',
      's.org_id',
      's.created_at',
      's.last_seen_at',
      's.expires_at',
      's.restricted_to',
      'u.status as user_status',
      'u.role as user_role',
      'o.is_root as org_is_root',
      'o.disabled_at as org_disabled_at',
      'o.require_mfa as org_require_mfa',
      'u.mfa_enabled_at as user_mfa_enabled_at',
    ]);
}

const placeholders = (count: number): string[] => Array.from({ length: count }, () => '');

/** Every session-authenticated request runs it: batched and prepared, as the key read of the exchange is. */
export async function findSessionForAuth(db: Db, tokenHash: string): Promise<SessionAuthRow | undefined> {
  if (db instanceof PreparingDb) {
    return db.batched('scope_auth_find_sessions', (count) => sessionAuthSelect(db).where('s.token_hash', 'in', placeholders(count)).compile()).get(tokenHash);
  }
  return sessionAuthSelect(db).where('s.token_hash', '=', tokenHash).executeTakeFirst();
}

/** Moves the idle timeout on, unless another request did within `minGapMs` (one write a minute per session, not one per request). */
export async function touchSession(db: Db, id: string, at: number, minGapMs: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).where('last_seen_at', '<=', at - minGapMs).execute();
}

/** The person's sessions still open at `now`, newest first. */
export async function listUserSessions(db: Db, userId: string, window: ListWindow & { now: number; idleSince: number }): Promise<SessionRow[]> {
  let query = db
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('expires_at', '>', window.now)
    .where('last_seen_at', '>', window.idleSince);
  if (window.before !== null) query = query.where('id', '<', window.before);
  return query.orderBy('id', 'desc').limit(window.limit).execute();
}

/** Ends one session of the person; false when there is none. */
export async function deleteUserSession(db: Db, userId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Ends every session of the person but `exceptId`; how many it ended. */
export async function deleteUserSessions(db: Db, userId: string, exceptId?: string): Promise<number> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
  return Number((await query.executeTakeFirst()).numDeletedRows);
}

/** Forgets the person's sessions that ended by `now` (expired or idle since `idleSince`). */
export async function deleteEndedSessions(db: Db, userId: string, now: number, idleSince: number): Promise<void> {
  await db
    .deleteFrom('sessions')
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleSince)]))
    .execute();
}
