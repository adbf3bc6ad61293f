// A key's own policy, set when it is created and fixed for its life (keys are immutable;
// rolling carries it over): the scopes it may carry, a subset of what its app grants, and
// the addresses its exchanges may come from, within its app's list. Neither widens the app:
// the exchange gives a token the app's grant ∩ the org's allowance ∩ the key's scopes, and
// checks the client address against the app's list and the key's, both as they are at that
// moment, so narrowing the app narrows every key at once.
import { InvalidRequestError } from '../errors.js';
import type { AppRecord } from '../store/apps.js';
import { checkCatalogScopes } from './grants.js';
import { checkAllowedIps, checkWithinAppList } from './ip-allow-lists.js';
import type { Catalog } from './scopes.js';

export interface KeyPolicyInput {
  /** Null or absent: whatever the app grants, as it changes. */
  readonly scopes?: readonly string[] | null;
  /** Null or absent: the app's list (or any address, when it has none). */
  readonly allowedIps?: readonly string[] | null;
}

export interface KeyPolicy {
  readonly scopes: string[] | null;
  readonly allowedIps: string[] | null;
}

/**
 * A new key's policy as it will be stored: scopes of the catalogue within the app's grant
 * (expanded, so `agents:view` is within `agents:edit`), sorted and unique; an IP list
 * normalized and within the app's. InvalidRequestError (400, naming them) otherwise.
 */
export function checkKeyPolicy(catalog: Catalog, app: Pick<AppRecord, 'scopes' | 'allowed_ips'>, input: KeyPolicyInput): KeyPolicy {
  let scopes: string[] | null = null;
  if (input.scopes !== undefined && input.scopes !== null) {
    if (input.scopes.length === 0) {
      throw new InvalidRequestError("scopes: expected at least one scope of the app's grant; leave scopes out (or null) for all of it");
    }
    scopes = checkCatalogScopes(catalog, input.scopes);
    const granted = new Set(catalog.expand(app.scopes));
    const outside = scopes.filter((s) => !granted.has(s));
    if (outside.length > 0) {
      throw new InvalidRequestError(
        `scopes: the app does not grant ${outside.join(', ')} (it grants ${[...granted].sort().join(' ') || 'nothing'}); a key's scopes narrow its app's`,
        { extra: { outside_app: outside } },
      );
    }
  }
  let allowedIps: string[] | null = null;
  if (input.allowedIps !== undefined && input.allowedIps !== null) {
    allowedIps = checkAllowedIps('allowed_ips', input.allowedIps);
    checkWithinAppList('allowed_ips', allowedIps, app.allowed_ips);
  }
  return { scopes, allowedIps };
}

/** What key.created's audit event says of the policy: each list when the key has one. */
export function policyDetails(policy: { readonly scopes: readonly string[] | null; readonly allowedIps: readonly string[] | null }): Record<string, readonly string[]> {
  return { ...(policy.scopes === null ? {} : { scopes: policy.scopes }), ...(policy.allowedIps === null ? {} : { allowed_ips: policy.allowedIps }) };
}
