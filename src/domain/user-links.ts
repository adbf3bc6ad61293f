// One-time links for people: an invitation (`<issuer>/console/invitations/<token>`) and a
// password reset (`<issuer>/console/password-reset/<token>`). The token is 256 random bits,
// stored only as its SHA-256, usable once, for SCOPE_AUTH_INVITATION_TTL; a new link for the
// same person and purpose replaces the previous one. The server sends no mail: whoever makes
// the link hands it over. Both kinds are used through the API at /v1/invitations/{token}.
import type { Db } from '../store/database.js';
import { deleteUserLinks, insertLink, type LinkPurpose, type UserLinkRow } from '../store/user-links.js';
import type { Clock } from './clock.js';
import { randomToken, tokenDigest } from './opaque-tokens.js';

const CONSOLE_PATHS: Readonly<Record<LinkPurpose, string>> = {
  invitation: '/console/invitations/',
  password_reset: '/console/password-reset/',
};

export interface NewLink {
  readonly purpose: LinkPurpose;
  readonly orgId: string;
  /** Null only for the first start's open invitation of the root org's first owner. */
  readonly userId: string | null;
  readonly role: string;
  readonly actorId: string;
}

/** Inside the caller's transaction: replaces the person's links of this purpose with a new one; returns its URL, shown once. */
export async function issueLink(trx: Db, deps: { clock: Clock; issuer: string; ttlSeconds: number }, link: NewLink): Promise<string> {
  const now = deps.clock.now();
  const token = randomToken();
  const row: UserLinkRow = {
    token_hash: tokenDigest(token),
    purpose: link.purpose,
    org_id: link.orgId,
    user_id: link.userId,
    role: link.role,
    created_at: now,
    created_by: link.actorId,
    expires_at: now + deps.ttlSeconds * 1000,
  };
  if (link.userId !== null) await deleteUserLinks(trx, link.userId, link.purpose);
  await insertLink(trx, row);
  return `${deps.issuer}${CONSOLE_PATHS[link.purpose]}${token}`;
}
