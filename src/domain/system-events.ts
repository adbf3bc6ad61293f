// What the server files about a key on its own, with actor `system`: the key-policy
// sweeper's reminders and the revocations it and the leak endpoint make. Each event is an
// audit event (webhooks deliver it from there) carrying the key's app and name.
import type { Db } from '../store/database.js';
import { recordAudit } from './audit.js';
import type { Clock } from './clock.js';

/** The key an event is about. */
export interface SystemEventKey {
  readonly id: string;
  readonly org_id: string;
  readonly app_id: string;
  readonly name: string;
}

export interface SystemKeyEvent {
  readonly action: string;
  /** More for the event (a reason, a time); never a secret. */
  readonly details: Record<string, unknown>;
  /** The reporter's address, when someone reported it. */
  readonly ip?: string | null;
}

/** Files `event` about `key` in the transaction `trx`. */
export async function recordSystemKeyEvent(trx: Db, clock: Clock, key: SystemEventKey, event: SystemKeyEvent): Promise<void> {
  await recordAudit(trx, clock, {
    orgId: key.org_id,
    actor: 'system',
    action: event.action,
    targetType: 'key',
    targetId: key.id,
    ip: event.ip ?? null,
    details: { app_id: key.app_id, name: key.name, ...event.details },
  });
}

/**
 * Files `event` once: in one transaction with `mark`, a conditional update that answers
 * true only for the first caller, so two sweepers racing file it once between them. False
 * when it was filed already.
 */
export async function fileOnce(deps: { db: Db; clock: Clock }, key: SystemEventKey, mark: (trx: Db) => Promise<boolean>, event: SystemKeyEvent): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    if (!(await mark(trx))) return false;
    await recordSystemKeyEvent(trx, deps.clock, key, event);
    return true;
  });
}
