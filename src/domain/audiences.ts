// Which audiences an app's tokens may be meant for. A downstream API recognises its tokens
// by `aud`; if any org could name any audience, one tenant could mint tokens another
// tenant's API accepts. So the operator lists the audiences in the catalogue, and an app
// may use only those or the server's default audience (SCOPE_AUTH_AUDIENCE). Every route
// and CLI command that sets an app's audience goes through checkAppAudience.
import { InvalidRequestError } from '../errors.js';
import type { Db } from '../store/database.js';
import { appsWithAudienceOutside, type AppAudience } from '../store/apps.js';
import { AUDIENCE_MAX, type Catalog } from './scopes.js';

export interface AudiencePolicy {
  readonly catalog: Catalog;
  /** SCOPE_AUTH_AUDIENCE (the issuer unless set): what an app without its own audience gets. */
  readonly defaultAudience: string;
}

/** Every audience an app may name: the catalogue's, and the default one. */
export function allowedAudiences(policy: AudiencePolicy): string[] {
  const listed = policy.catalog.audiences.map((a) => a.audience);
  return listed.includes(policy.defaultAudience) ? listed : [...listed, policy.defaultAudience];
}

/**
 * An app's new audience: null (the default audience) or one the policy allows; otherwise
 * InvalidRequestError naming the allowed ones.
 */
export function checkAppAudience(policy: AudiencePolicy, audience: string | null): string | null {
  if (audience === null) return null;
  if (audience.trim() === '' || audience.length > AUDIENCE_MAX) {
    throw new InvalidRequestError(`audience: expected a non-empty string of at most ${AUDIENCE_MAX} characters, or null`);
  }
  const allowed = allowedAudiences(policy);
  if (!allowed.includes(audience)) {
    const listed = allowed.map((a) => `"${a}"`).join(', ');
    throw new InvalidRequestError(
      `audience: "${audience}" is not an audience of this server; expected one of ${listed}, or null for the default "${policy.defaultAudience}" (GET /v1/scopes lists them)`,
      { extra: { allowed_audiences: allowed } },
    );
  }
  return audience;
}

/** At most this many apps are named in the startup warning; the count says how many there are. */
const WARNING_APPS_MAX = 100;

/**
 * Live apps whose stored audience is no longer allowed (created before the catalogue listed
 * audiences, or since removed from it). They keep working, since refusing their exchanges
 * would break running clients without notice; an edit that sets the audience must pick an
 * allowed one. Null when there are none.
 */
export async function disallowedAudienceWarning(
  db: Db,
  policy: AudiencePolicy,
): Promise<{ message: string; apps: AppAudience[]; count: number } | null> {
  const { apps, count } = await appsWithAudienceOutside(db, allowedAudiences(policy), WARNING_APPS_MAX);
  if (count === 0) return null;
  return {
    message: `${count} app${count === 1 ? ' has an audience' : 's have audiences'} the scope catalogue does not list; they keep working, but changing their audience must pick a listed one (or null for the default)`,
    apps,
    count,
  };
}
