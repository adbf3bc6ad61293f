// Token introspection (RFC 7662): the online check for services that cannot wait for a
// token to expire. A token is active while it verifies (signature, iss, exp, typ) and the
// key behind it is still usable, so a revocation, key deletion, key expiry, app deletion or
// a disabled org shows at once. Everything else is simply inactive: §2.2 lets the answer say no more.
import type { Db } from '../store/database.js';
import { getOrg } from '../store/orgs.js';
import { isTokenKeyActive, type TokenVerifier } from './access-tokens.js';
import type { Clock } from './clock.js';
import type { AccessTokenClaims } from './tokens.js';

export type IntrospectionResult = { readonly active: false } | { readonly active: true; readonly claims: AccessTokenClaims };

/** Introspects `token` on behalf of a caller of `callerOrgId`. */
export type Introspect = (token: string, callerOrgId: string) => Promise<IntrospectionResult>;

const INACTIVE: IntrospectionResult = Object.freeze({ active: false });

async function isRootOrg(db: Db, orgId: string): Promise<boolean> {
  return (await getOrg(db, orgId))?.is_root === 1;
}

export function createIntrospection(deps: { verify: TokenVerifier; db: Db; clock: Clock }): Introspect {
  return async (token, callerOrgId) => {
    const verified = await deps.verify(token);
    if (!verified) return INACTIVE;
    // Tenant isolation: a caller learns nothing about another org's tokens, not even that
    // they exist (§2.2 allows "inactive" for a token the caller may not know about). The
    // exception is the root org, the operator's own: its introspecting services are the
    // downstream APIs that every org's clients call.
    if (verified.claims.org_id !== callerOrgId && !(await isRootOrg(deps.db, callerOrgId))) return INACTIVE;
    if (!(await isTokenKeyActive(deps.db, deps.clock, verified.claims))) return INACTIVE;
    return { active: true, claims: verified.claims };
  };
}
