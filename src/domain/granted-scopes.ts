// What an app's stored scope list grants, expanded by the catalogue. The catalogue is fixed for
// the life of the process, so a list always expands to the same result; parsing and expanding
// it once per distinct list, not per exchange, keeps that work off the hot path.
import type { Catalog } from './scopes.js';

/** Distinct app scope lists remembered with their expansion; apps are few, this only bounds a pathological case. */
const GRANTS_MEMO_LIMIT = 1024;

/** The expansion of a stored scope list (JSON text), computed once per distinct list. */
export function createGrantedScopes(catalog: Catalog): (appScopes: string) => readonly string[] {
  const memo = new Map<string, readonly string[]>();
  return (appScopes) => {
    let granted = memo.get(appScopes);
    if (granted === undefined) {
      granted = Object.freeze(catalog.expand(JSON.parse(appScopes) as string[]));
      if (memo.size >= GRANTS_MEMO_LIMIT) memo.clear();
      memo.set(appScopes, granted);
    }
    return granted;
  };
}
