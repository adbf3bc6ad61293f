// The first start's one-time link to create the root org's first owner, printed (or written)
// with the root key. It names no email: whoever opens it gives theirs when accepting. An
// operator who missed it makes another invitation with `scope-auth users invite`.
import type { AdminDeps } from './actor.js';
import type { CreatedOrg } from './orgs.js';
import { issueLink } from './user-links.js';

/** What the first start hands over: the root org with its admin key, and the first owner's link. */
export interface FirstStart extends CreatedOrg {
  readonly ownerInvitationUrl: string;
}

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
