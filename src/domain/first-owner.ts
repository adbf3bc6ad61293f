// The first start's one-time link to create the root org's first owner, printed (or written)
// with the root key. It names no email: whoever opens it gives theirs when accepting. An
// operator who missed it makes another invitation with `scope-auth users invite`.
import type { AdminDeps } from './actor.js';
import { issueLink } from './user-links.js';

export async function issueFirstOwnerInvitation(deps: Pick<AdminDeps, 'db' | 'clock' | 'config'>, rootOrgId: string): Promise<string> {
  return deps.db.transaction().execute((trx) =>
    issueLink(trx, { clock: deps.clock, issuer: deps.config.issuer, ttlSeconds: deps.config.people.invitationTtlSeconds }, {
      purpose: 'invitation',
      orgId: rootOrgId,
      userId: null,
      role: 'owner',
      actorId: 'system',
    }),
  );
}
