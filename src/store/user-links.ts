// One-time links of people: invitations and password resets. Only the SHA-256 of a link's
// token is stored, and a link is deleted as it is used, so it works once.
import type { Db } from './database.js';
import type { UserLinksTable } from './schema.js';

export type UserLinkRow = UserLinksTable;
export type LinkPurpose = 'invitation' | 'password_reset';

export async function insertLink(db: Db, row: UserLinkRow): Promise<void> {
  await db.insertInto('user_links').values(row).execute();
}

/** Deletes the person's links of `purpose` (a new one replaces them), or all of them. */
export async function deleteUserLinks(db: Db, userId: string, purpose?: LinkPurpose): Promise<void> {
  let query = db.deleteFrom('user_links').where('user_id', '=', userId);
  if (purpose !== undefined) query = query.where('purpose', '=', purpose);
  await query.execute();
}

/** What a link's page shows and its use needs: the link, its person (if any) and its org. */
export interface LinkView {
  readonly token_hash: string;
  readonly purpose: string;
  readonly org_id: string;
  readonly org_name: string;
  readonly org_disabled_at: number | null;
  readonly org_require_mfa: number;
  readonly role: string;
  readonly expires_at: number;
  readonly created_by: string;
  readonly user_id: string | null;
  readonly user_email: string | null;
  readonly user_status: string | null;
  readonly user_role: string | null;
}

export async function findLink(db: Db, tokenHash: string): Promise<LinkView | undefined> {
  return db
    .selectFrom('user_links as l')
    .innerJoin('orgs as o', 'o.id', 'l.org_id')
    .leftJoin('users as u', 'u.id', 'l.user_id')
    .select([
      'l.token_hash',
      'l.purpose',
      'l.org_id',
      'o.name as org_name',
      'o.disabled_at as org_disabled_at',
      'o.require_mfa as org_require_mfa',
      'l.role',
      'l.expires_at',
      'l.created_by',
      'l.user_id',
      'u.email as user_email',
      'u.status as user_status',
      'u.role as user_role',
    ])
    .where('l.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** Deletes the link if it has not expired by `now`; true when this call used it (so two uses cannot both succeed). */
export async function consumeLink(db: Db, tokenHash: string, now: number): Promise<boolean> {
  const result = await db.deleteFrom('user_links').where('token_hash', '=', tokenHash).where('expires_at', '>', now).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
