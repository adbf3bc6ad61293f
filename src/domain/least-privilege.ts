// Least privilege among admins: an admin may act on an app — change it, delete it, or
// create, roll, revoke or delete its keys — only when the app's power over this server is
// within the admin's own, and may grant nothing they lack. Without it, a key holding only
// admin.apps:edit could revoke the root org's admin key, strip an admin app's scopes, or
// issue itself a key of a stronger app. Every app and key use case calls this, so the API,
// the console and the CLI answer alike; the operator CLI (scopes `all`) passes, and its
// audit actor `cli` records that the operator acted.
//
// The rule compares privileged scopes only (admin.*, tokens:*). What else an app may carry
// (runtime:run, agents:edit…) is not power over this server, and the org's allowance of
// catalogue scopes governs it, not the admin's own token: an org's admin app holds the
// built-in scopes, and managing apps that call downstream APIs is its job.
import { ExceedsCallerScopeError } from '../errors.js';
import { actorHolds, isOperator, type Actor } from './actor.js';
import type { Catalog } from './scopes.js';

/** Scopes that confer power over this server itself. */
export function isPrivilegedScope(scope: string): boolean {
  return scope.startsWith('admin.') || scope.startsWith('tokens:');
}

/** The privileged scopes of `scopes` (expanded through the catalogue) that `actor` lacks, sorted. */
export function scopesBeyondCaller(catalog: Catalog, actor: Actor, scopes: readonly string[]): string[] {
  if (isOperator(actor)) return [];
  return catalog.expand(scopes).filter((s) => isPrivilegedScope(s) && !actorHolds(actor, s));
}

const listed = (scopes: readonly string[]) => `${scopes.join(', ')}, which your token does not hold`;

/**
 * Refuses (403 `exceeds_caller_scope`, `missing_scopes` naming them) an action on an app
 * that holds admin power `actor` lacks: changing, re-scoping or deleting it, and issuing,
 * rolling, revoking or deleting its keys.
 */
export function requireWithinCaller(catalog: Catalog, actor: Actor, appScopes: readonly string[]): void {
  const missing = scopesBeyondCaller(catalog, actor, appScopes);
  if (missing.length > 0) {
    throw new ExceedsCallerScopeError(`you cannot change this app or its keys: it holds ${listed(missing)}`, {
      extra: { missing_scopes: missing },
    });
  }
}

/** Refuses (403 `exceeds_caller_scope`) granting an app scopes that give admin power `actor` lacks. */
export function requireGrantWithinCaller(catalog: Catalog, actor: Actor, scopes: readonly string[]): void {
  const missing = scopesBeyondCaller(catalog, actor, scopes);
  if (missing.length > 0) {
    throw new ExceedsCallerScopeError(`you cannot grant ${listed(missing)}`, { extra: { missing_scopes: missing } });
  }
}
