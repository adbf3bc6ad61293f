// What an app may be granted: catalogue scopes only, and admin.orgs:full only inside the
// root org. (No more admin power than the granting admin holds: least-privilege.ts.)
import { ForbiddenError, InvalidRequestError } from '../errors.js';
import type { Catalog } from './scopes.js';

/** Scopes only apps of the root org may hold. */
export const ROOT_ONLY_SCOPES: readonly string[] = ['admin.orgs:full'];

/** A scope list in a request body holds at most this many names… */
export const SCOPES_MAX = 200;
/** …of at most this many characters each (the routes' validators enforce both). */
export const SCOPE_NAME_MAX = 128;
/**
 * Unknown scopes that get a "did you mean" each; the rest are only named. The suggestions
 * are the one piece of admin work that grows with the body (once 207 ms of main thread for
 * 300 long unknown names), so they are bounded: at most this many names × the catalogue ×
 * an edit distance that stops as soon as it exceeds its limit.
 */
const SUGGESTED_MAX = 3;

/** The edit distance of a and b, or `limit + 1` as soon as it is known to exceed `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (current[j]! < best) best = current[j]!;
    }
    if (best > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length]!;
}

/** Up to three catalogue scopes within a small edit distance, closest first. */
export function closeMatches(catalog: Catalog, scope: string): string[] {
  const limit = Math.max(2, Math.floor(scope.length / 4));
  return catalog.scopes
    .map((candidate) => ({ candidate, distance: editDistance(scope, candidate, limit) }))
    .filter((m) => m.distance <= limit)
    .sort((x, y) => x.distance - y.distance || x.candidate.localeCompare(y.candidate))
    .slice(0, 3)
    .map((m) => m.candidate);
}

/** Sorted, de-duplicated scopes; InvalidRequestError naming every scope not in the catalogue (and `field`). */
export function checkCatalogScopes(catalog: Catalog, scopes: readonly string[], field = 'scopes'): string[] {
  const unknown = [...new Set(scopes.filter((s) => !catalog.has(s)))];
  if (unknown.length > 0) {
    const described = unknown.map((s, index) => {
      const close = index < SUGGESTED_MAX ? closeMatches(catalog, s) : [];
      return close.length > 0 ? `"${s}" (did you mean ${close.map((c) => `"${c}"`).join(' or ')}?)` : `"${s}"`;
    });
    throw new InvalidRequestError(`${field}: unknown scope${unknown.length > 1 ? 's' : ''} ${described.join(', ')}; GET /v1/scopes lists the catalogue`, {
      extra: { unknown_scopes: unknown },
    });
  }
  return [...new Set(scopes)].sort();
}

/**
 * The scopes an app of an org (`orgIsRoot`) may be granted, as stored: catalogue scopes,
 * sorted and unique, and admin.orgs:full only inside the root org. Whether the granting
 * admin may hand them out is least-privilege.ts's rule.
 */
export function checkGrant(catalog: Catalog, input: { scopes: readonly string[]; orgIsRoot: boolean }): string[] {
  const scopes = checkCatalogScopes(catalog, input.scopes);
  const rootOnly = catalog.expand(scopes).filter((s) => ROOT_ONLY_SCOPES.includes(s));
  if (!input.orgIsRoot && rootOnly.length > 0) {
    throw new ForbiddenError(`${rootOnly.join(', ')} can be granted only to apps of the root organization`, {
      extra: { forbidden_scopes: rootOnly },
    });
  }
  return scopes;
}
