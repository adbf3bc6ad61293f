// Org allowances: the catalogue scopes an org's apps may be granted, set by the operator
// (root org admins, the CLI). A scope the operator sells as an entitlement is not free to
// every tenant: granting beyond the allowance is refused, and a token carries only what is
// in both its app's grant and its org's allowance at the moment of the exchange, so
// narrowing an allowance narrows every app's next token. The built-in admin scopes are
// outside allowances (grants.ts governs them). Stored null means every non-admin scope of
// the catalogue, so it follows the catalogue as it grows; that is what orgs created before
// allowances existed hold, and what new orgs get unless SCOPE_AUTH_ORG_DEFAULT_SCOPES is set.
import { ConfigError } from '../config.js';
import { InvalidRequestError } from '../errors.js';
import { checkCatalogScopes } from './grants.js';
import type { Catalog } from './scopes.js';

/** An allowance as stored: catalogue scope names, or null for every non-admin scope. */
export type Allowance = readonly string[] | null;

/** The most scopes one allowance may name. */
export const ALLOWANCE_MAX = 200;

/** The scopes `allowance` lets apps hold, implications expanded, sorted; admin scopes not included. */
export function effectiveAllowance(catalog: Catalog, allowance: Allowance): string[] {
  const builtins = new Set(catalog.builtins);
  const scopes = allowance === null ? catalog.scopes : catalog.expand(allowance);
  return scopes.filter((s) => !builtins.has(s));
}

/**
 * A new allowance as it will be stored: catalogue scopes only, no built-in admin scope,
 * sorted and unique; InvalidRequestError (naming `field`) otherwise.
 */
export function checkAllowance(catalog: Catalog, scopes: readonly string[], field = 'allowed_scopes'): string[] {
  if (scopes.length > ALLOWANCE_MAX) throw new InvalidRequestError(`${field}: expected at most ${ALLOWANCE_MAX} scopes`);
  const checked = checkCatalogScopes(catalog, scopes, field);
  const admin = checked.filter((s) => catalog.builtins.includes(s));
  if (admin.length > 0) {
    throw new InvalidRequestError(
      `${field}: ${admin.join(', ')} ${admin.length > 1 ? 'are' : 'is'} built in and outside allowances; an allowance names the catalogue's own scopes`,
      { extra: { admin_scopes: admin } },
    );
  }
  return checked;
}

/**
 * The allowance of a new org from SCOPE_AUTH_ORG_DEFAULT_SCOPES: null (every non-admin
 * scope) when it is empty. Throws ConfigError naming the variable when it names scopes the
 * catalogue does not have, or admin scopes; the server checks it at startup.
 */
export function defaultAllowance(catalog: Catalog, configured: readonly string[]): Allowance {
  if (configured.length === 0) return null;
  try {
    return checkAllowance(catalog, configured, 'SCOPE_AUTH_ORG_DEFAULT_SCOPES');
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    const unknown = error.extra?.unknown_scopes;
    const admin = error.extra?.admin_scopes;
    const why = Array.isArray(unknown)
      ? `the scope catalogue has no ${unknown.join(', ')}`
      : Array.isArray(admin)
        ? `${admin.join(', ')}: admin scopes are outside allowances`
        : error.message;
    throw new ConfigError(
      `SCOPE_AUTH_ORG_DEFAULT_SCOPES=${JSON.stringify(configured.join(' '))} is invalid: ${why}; expected space-separated scopes of the catalogue, or empty for every non-admin scope`,
      { cause: error },
    );
  }
}

/**
 * Refuses to grant an app of an org with `allowance` a catalogue scope outside it (400
 * naming them). Only additions to what the app holds (`current`) are checked, so an admin
 * can still narrow an app that holds more than a since narrowed allowance: its tokens carry
 * only the allowed part anyway.
 */
export function checkWithinAllowance(
  catalog: Catalog,
  allowance: Allowance,
  input: { scopes: readonly string[]; current?: readonly string[] },
): void {
  if (allowance === null) return;
  const allowed = new Set(effectiveAllowance(catalog, allowance));
  const held = new Set(catalog.expand(input.current ?? []));
  const outside = input.scopes.filter((s) => !catalog.builtins.includes(s) && !allowed.has(s) && !held.has(s));
  if (outside.length === 0) return;
  const unique = [...new Set(outside)].sort();
  throw new InvalidRequestError(
    `scopes: ${unique.join(', ')} ${unique.length > 1 ? 'are' : 'is'} outside this organization's allowance (${
      allowed.size > 0 ? [...allowed].sort().join(' ') : 'none'
    }); the operator sets it`,
    { extra: { outside_allowance: unique, allowed_scopes: [...allowed].sort() } },
  );
}

/**
 * What a token of an app may carry: its grant, expanded, within its org's allowance
 * (expanded), the admin scopes untouched; and with `keyScopes` (a key's own, null: the
 * app's), within those too. Implication-closed, since every side is.
 */
export function tokenScopes(catalog: Catalog, appScopes: readonly string[], allowance: Allowance, keyScopes: readonly string[] | null = null): string[] {
  let granted = catalog.expand(appScopes);
  if (allowance !== null) {
    const allowed = new Set([...effectiveAllowance(catalog, allowance), ...catalog.builtins]);
    granted = granted.filter((s) => allowed.has(s));
  }
  if (keyScopes === null) return granted;
  const own = new Set(catalog.expand(keyScopes));
  return granted.filter((s) => own.has(s));
}

/**
 * Distinct (app scopes, allowance, key scopes) triples remembered: apps are few and the keys
 * with scopes of their own share a few lists; this only bounds a pathological case.
 */
const TOKEN_SCOPES_MEMO_LIMIT = 4096;

/**
 * tokenScopes for the stored JSON of an app's scopes, its org's allowance and its key's own
 * scopes, as the exchange reads them with the key row. The catalogue is fixed for the life
 * of the process, so the same lists always yield the same scopes: parsing, expanding and
 * intersecting them once per triple, not per exchange, keeps that work off the hot path.
 * Keyed by allowance first (orgs are fewer than apps), then app, then key; null as ''.
 */
export function storedTokenScopes(catalog: Catalog): (appScopes: string, allowance: string | null, keyScopes?: string | null) => readonly string[] {
  const memo = new Map<string, Map<string, Map<string, readonly string[]>>>();
  let size = 0;
  return (appScopes, allowance, keyScopes = null) => {
    let byApp = memo.get(allowance ?? '');
    let byKey = byApp?.get(appScopes);
    let scopes = byKey?.get(keyScopes ?? '');
    if (scopes === undefined) {
      const allowed = allowance === null ? null : (JSON.parse(allowance) as string[]);
      const own = keyScopes === null ? null : (JSON.parse(keyScopes) as string[]);
      scopes = Object.freeze(tokenScopes(catalog, JSON.parse(appScopes) as string[], allowed, own));
      if (size >= TOKEN_SCOPES_MEMO_LIMIT) {
        memo.clear();
        size = 0;
        byApp = undefined;
        byKey = undefined;
      }
      if (byApp === undefined) memo.set(allowance ?? '', (byApp = new Map()));
      if (byKey === undefined) byApp.set(appScopes, (byKey = new Map()));
      byKey.set(keyScopes ?? '', scopes);
      size++;
    }
    return scopes;
  };
}
