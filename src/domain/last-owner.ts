// An org keeps at least one active owner while it has one: through the API, demoting,
// disabling or deleting the last one is a 409 `last_owner`, or nobody could manage the org's
// people again without the operator. The operator CLI may with --force (and the audit event
// says so). The org's row is locked for the transaction, so two owners demoting each other
// at once run one after the other, and the second is refused.
import { LastOwnerError } from '../errors.js';
import type { Db } from '../store/database.js';
import { lockOrg } from '../store/orgs.js';
import { countActiveOwners, type UserRow } from '../store/users.js';
import { isOperator, type Actor } from './actor.js';

/** Call first inside the transaction that takes `target`'s ownership away (a demotion, disabling, deletion). */
export async function guardLastOwner(trx: Db, actor: Actor, target: Pick<UserRow, 'id' | 'org_id' | 'role' | 'status'>, options: { force?: boolean } = {}): Promise<{ forced: boolean }> {
  if (target.role !== 'owner' || target.status !== 'active') return { forced: false };
  await lockOrg(trx, target.org_id);
  if ((await countActiveOwners(trx, target.org_id, target.id)) > 0) return { forced: false };
  if (options.force === true && isOperator(actor)) return { forced: true };
  throw new LastOwnerError('this is the last active owner of the organization; make someone else an owner first');
}

export function forcedOwnerDetails(guard: { forced: boolean }): { forced?: 'last_owner' } {
  return guard.forced ? { forced: 'last_owner' } : {};
}
