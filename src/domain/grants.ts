// What an app may be granted: catalogue scopes only, no more admin power than the granting
// actor holds, and admin.orgs:full only inside the root org.
import { ForbiddenError, InvalidRequestError } from '../errors.js';
import { actorHolds, type Actor } from './actor.js';
import type { Catalog } from './scopes.js';

/** Scopes only apps of the root org may hold. */
export const ROOT_ONLY_SCOPES: readonly string[] = ['admin.orgs:full'];

/** Scopes that confer power over this server itself. */
export function isPrivilegedScope(scope: string): boolean {
  return scope.startsWith('admin.') || scope.startsWith('tokens:');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Up to three catalogue scopes within a small edit distance, closest first. */
export function closeMatches(catalog: Catalog, scope: string): string[] {
  const limit = Math.max(2, Math.floor(scope.length / 4));
  return catalog.scopes
    .map((candidate) => ({ candidate, distance: editDistance(scope, candidate) }))
    .filter((m) => m.distance <= limit)
    .sort((x, y) => x.distance - y.distance || x.candidate.localeCompare(y.candidate))
    .slice(0, 3)
    .map((m) => m.candidate);
}

/** Sorted, de-duplicated scopes; InvalidRequestError naming every scope not in the catalogue (and `field`). */
export function checkCatalogScopes(catalog: Catalog, scopes: readonly string[], field = 'scopes'): string[] {
  const unknown = [...new Set(scopes.filter((s) => !catalog.has(s)))];
  if (unknown.length > 0) {
    const described = unknown.map((s) => {
      const close = closeMatches(catalog, s);
      return close.length > 0 ? `"${s}" (did you mean ${close.map((c) => `"${c}"`).join(' or ')}?)` : `"${s}"`;
    });
    throw new InvalidRequestError(`${field}: unknown scope${unknown.length > 1 ? 's' : ''} ${described.join(', ')}; GET /v1/scopes lists the catalogue`, {
      extra: { unknown_scopes: unknown },
    });
  }
  return [...new Set(scopes)].sort();
}

/**
 * Checks that `actor` may grant `scopes` to an app of an org (`orgIsRoot`) that currently
 * holds `current`: only additions are checked, so an admin can still narrow an app that
 * holds more than they do. Returns the scopes as stored: sorted, unique.
 */
export function checkGrant(
  catalog: Catalog,
  actor: Actor,
  input: { scopes: readonly string[]; orgIsRoot: boolean; current?: readonly string[] },
): string[] {
  const scopes = checkCatalogScopes(catalog, input.scopes);
  const before = new Set(catalog.expand(input.current ?? []));
  const added = catalog.expand(scopes).filter((s) => !before.has(s));
  const rootOnly = catalog.expand(scopes).filter((s) => ROOT_ONLY_SCOPES.includes(s));
  if (!input.orgIsRoot && rootOnly.length > 0) {
    throw new ForbiddenError(`${rootOnly.join(', ')} can be granted only to apps of the root organization`, {
      extra: { forbidden_scopes: rootOnly },
    });
  }
  const beyond = added.filter((s) => isPrivilegedScope(s) && !actorHolds(actor, s));
  if (beyond.length > 0) {
    throw new ForbiddenError(`you cannot grant ${beyond.join(', ')}: your token does not hold ${beyond.length > 1 ? 'them' : 'it'}`, {
      extra: { forbidden_scopes: beyond },
    });
  }
  return scopes;
}

/**
 * A key is as powerful as its app, so issuing one (create or roll) for an app holding admin
 * scopes the actor lacks would be an escalation.
 */
export function checkKeyIssuance(catalog: Catalog, actor: Actor, appScopes: readonly string[]): void {
  const beyond = catalog.expand(appScopes).filter((s) => isPrivilegedScope(s) && !actorHolds(actor, s));
  if (beyond.length > 0) {
    throw new ForbiddenError(
      `you cannot issue keys for this app: it holds ${beyond.join(', ')}, which your token does not`,
      { extra: { forbidden_scopes: beyond } },
    );
  }
}
