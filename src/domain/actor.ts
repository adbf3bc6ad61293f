// Who performs an admin use case. The HTTP API builds it from the bearer token (the tenant
// is the token's org_id, the scopes those of the token that its app still grants) or from a
// person's session (their org, their role's scopes); the operator CLI uses
// `{ id: 'cli', scopes: 'all', orgId }`.
import type { Config } from '../config.js';
import type { Db } from '../store/database.js';
import { InsufficientScopeError } from '../errors.js';
import type { Clock } from './clock.js';
import type { SecretHasher } from './hashing.js';
import type { SecretDigest } from './secret-digest.js';
import type { Catalog } from './scopes.js';

export interface Actor {
  /** The tenant: every read and write of a use case is confined to this org. */
  readonly orgId: string;
  /** The acting key id or person (`usr_…`), recorded as created_by, revoked_by and the audit actor; or `cli`. */
  readonly id: string;
  readonly ip: string | null;
  /** The (expanded) scopes of the actor's token; `all` for the operator CLI. */
  readonly scopes: ReadonlySet<string> | 'all';
}

/** What the admin use cases need; AppDeps (and createServices' result) satisfies it. */
export interface AdminDeps {
  readonly db: Db;
  readonly hasher: SecretHasher;
  /** The lookup digest of each new key's secret, which finds the key when its secret is reported leaked. */
  readonly secretDigest: SecretDigest;
  readonly clock: Clock;
  readonly catalog: Catalog;
  readonly config: Pick<Config, 'keyMaxLifetimeDays' | 'tokenTtlMaxSeconds' | 'tokenTtlMinSeconds' | 'audience' | 'orgDefaultScopes' | 'issuer' | 'people'>;
}

/** The operator CLI acting inside `orgId`. */
export function cliActor(orgId: string): Actor {
  return { orgId, id: 'cli', ip: null, scopes: 'all' };
}

/** The operator (the CLI): exempt from least privilege among admins, and the only one who may --force. */
export function isOperator(actor: Actor): boolean {
  return actor.scopes === 'all';
}

export function actorHolds(actor: Actor, scope: string): boolean {
  return actor.scopes === 'all' || actor.scopes.has(scope);
}

/**
 * The same check the routes make with requireScope, repeated here so a use case is safe
 * whoever calls it.
 */
export function requireActorScope(actor: Actor, scope: string): void {
  if (!actorHolds(actor, scope)) {
    throw new InsufficientScopeError(`this action requires the scope ${scope}`, { extra: { required_scope: scope } });
  }
}
