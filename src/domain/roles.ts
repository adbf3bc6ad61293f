// A person's role is a set of the built-in admin scopes, so one authorization path serves
// keys and people: a session acts with its role's scopes, expanded through the catalogue as a
// token's are, and every admin route checks them as it checks a token's. Admin scopes are
// outside org allowances, as they are for apps; admin.orgs:full only in the root org, as
// for apps (grants.ts).
import { ROOT_ONLY_SCOPES } from './grants.js';
import type { Catalog } from './scopes.js';

export const ROLES = ['viewer', 'editor', 'owner'] as const;
export type Role = (typeof ROLES)[number];

const VIEWER = ['admin.apps:view', 'admin.audit:view', 'admin.webhooks:view'];
const EDITOR = [...VIEWER, 'admin.apps:edit'];
const OWNER = [...EDITOR, 'admin.apps:full', 'admin.users:full', 'admin.webhooks:full'];

/** What each role holds before expansion; owners of the root org also hold admin.orgs:full. */
export const ROLE_GRANTS: Readonly<Record<Role, readonly string[]>> = { viewer: VIEWER, editor: EDITOR, owner: OWNER };

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** The role's scopes in an org, expanded and sorted. */
export function roleScopes(catalog: Catalog, role: Role, orgIsRoot: boolean): string[] {
  const granted = role === 'owner' && orgIsRoot ? [...ROLE_GRANTS[role], ...ROOT_ONLY_SCOPES] : ROLE_GRANTS[role];
  return catalog.expand(granted);
}

/** roleScopes as sets, computed once per role and kind of org: every session-authenticated request asks. */
export function roleScopeSets(catalog: Catalog): (role: string, orgIsRoot: boolean) => ReadonlySet<string> {
  const sets = new Map<string, ReadonlySet<string>>();
  for (const role of ROLES) {
    for (const root of [false, true]) sets.set(`${role}|${root}`, new Set(roleScopes(catalog, role, root)));
  }
  const none: ReadonlySet<string> = new Set();
  return (role, orgIsRoot) => sets.get(`${role}|${orgIsRoot}`) ?? none;
}
