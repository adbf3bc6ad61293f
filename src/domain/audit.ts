// The audit log: who did what to which object, per org. Never a secret, hash or token.
import type { Db } from '../store/database.js';
import { insertAuditEvent } from '../store/audit-events.js';
import type { Clock } from './clock.js';
import { newId } from './credentials.js';

export interface AuditEntry {
  readonly orgId: string;
  /** The acting key id, `cli`, `system`, or `anonymous` for refused exchanges. */
  readonly actor: string;
  readonly action: string;
  readonly targetType?: string | null;
  readonly targetId?: string | null;
  readonly ip?: string | null;
  readonly details?: Record<string, unknown>;
}

/** Records an event; pass a transaction to make it part of the change it describes. */
export async function recordAudit(db: Db, clock: Clock, entry: AuditEntry): Promise<void> {
  const at = clock.now();
  await insertAuditEvent(db, {
    id: newId('event', at),
    org_id: entry.orgId,
    at,
    actor: entry.actor,
    action: entry.action,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId ?? null,
    ip: entry.ip ?? null,
    details: JSON.stringify(entry.details ?? {}),
  });
}
