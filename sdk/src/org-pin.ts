/**
 * Which organizations (tenants) a verifier accepts tokens of: the `orgId` option of
 * `createVerifier` and the per-call pin of `verify(token, { orgId })`. An org id is opaque
 * here; only equality with the token's `org_id` counts.
 */
import type { Request } from 'express';
import { TokenVerificationError } from './errors.js';

/** The accepted org ids of one request, from `orgId` as a function. */
export type OrgIdResolver = (req: Request) => string | readonly string[] | undefined;

/** The `orgId` option: one org id, a list of them, or a function of the request. */
export type OrgIdOption = string | readonly string[] | OrgIdResolver;

/**
 * A checked pin. A list of several ids becomes a Set once, at construction; a list given per
 * call or by a resolver is searched as it is, so checking a pin never allocates.
 */
export type OrgPin = string | ReadonlySet<string> | readonly string[];

/** What a resolver's "no org for this request" turns into: a pin that no token matches. */
export const NO_ORG: readonly string[] = Object.freeze([]);

/**
 * Checks `orgId` as `createVerifier` or `verify()` received it (`where` names which, for the
 * message). Undefined means no pin; anything else that is not a usable pin is a TypeError:
 * an empty string or list would silently refuse every token.
 */
export function readOrgIdOption(value: unknown, where: string, allowResolver: boolean): OrgPin | OrgIdResolver | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') {
    if (allowResolver) return value as OrgIdResolver;
  } else if (typeof value === 'string') {
    if (value !== '') return value;
  } else if (Array.isArray(value)) {
    const ids: unknown[] = value;
    if (ids.length > 0 && ids.every((id) => typeof id === 'string' && id !== '')) {
      const strings = ids as string[];
      if (!allowResolver) return strings; // per call: searched in place, never copied
      return strings.length === 1 ? (strings[0] as string) : new Set(strings);
    }
  }
  const accepted = allowResolver ? 'a non-empty string, a non-empty array of non-empty strings, or a function of the request' : 'a non-empty string or a non-empty array of non-empty strings';
  throw new TypeError(`${where}: \`orgId\` must be ${accepted}`);
}

/**
 * Whether `pin` accepts a token of `orgId`. A resolver's result arrives unchecked: whatever
 * is not a string or a list holding `orgId` (a Promise, a number, an empty list) refuses.
 */
export function acceptsOrg(pin: unknown, orgId: string): boolean {
  if (typeof pin === 'string') return pin === orgId;
  if (pin instanceof Set) return pin.has(orgId);
  return Array.isArray(pin) && pin.includes(orgId);
}

/** The refusal of a token of another org: the same kind as a token for another audience. */
export function orgNotAccepted(): TokenVerificationError {
  return new TokenVerificationError('claim_invalid', "The access token's org_id is not accepted by this service", { claim: 'org_id' });
}
