// Ending sessions, recorded as `session.ended` with why: a sign-out, a revocation by the
// person or an owner, or a change to the person that must end them (disabled, new role,
// password reset or changed, deleted). The rows are deleted: the next request with one of
// them, on any instance, is a 401.
import type { Db } from '../store/database.js';
import { deleteUserSession, deleteUserSessions } from '../store/sessions.js';
import { recordAudit } from './audit.js';
import type { Clock } from './clock.js';

export type SessionEndReason = 'signed_out' | 'revoked' | 'disabled' | 'role_changed' | 'password_reset' | 'password_changed' | 'deleted';

export interface EndedBy {
  readonly id: string;
  readonly ip: string | null;
}

/** Ends every session of the person but `exceptId`; how many. */
export async function endSessionsOf(
  trx: Db,
  clock: Clock,
  by: EndedBy,
  person: { id: string; org_id: string },
  reason: SessionEndReason,
  exceptId?: string,
): Promise<number> {
  const count = await deleteUserSessions(trx, person.id, exceptId);
  if (count > 0) {
    await recordAudit(trx, clock, { orgId: person.org_id, actor: by.id, ip: by.ip, action: 'session.ended', targetType: 'user', targetId: person.id, details: { reason, count } });
  }
  return count;
}

/** Ends one session of the person; false when they have none with that id. */
export async function endSession(trx: Db, clock: Clock, by: EndedBy, person: { id: string; org_id: string }, sessionId: string, reason: SessionEndReason): Promise<boolean> {
  if (!(await deleteUserSession(trx, person.id, sessionId))) return false;
  await recordAudit(trx, clock, {
    orgId: person.org_id,
    actor: by.id,
    ip: by.ip,
    action: 'session.ended',
    targetType: 'user',
    targetId: person.id,
    details: { reason, session_id: sessionId },
  });
  return true;
}
