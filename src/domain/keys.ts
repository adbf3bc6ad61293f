// Issuing API keys: the secret is returned to the caller once and stored only as a hash.
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.js';
import * as keysStore from '../store/api-keys.js';
import type { ApiKeyRow, ApiKeyView } from '../store/api-keys.js';
import { storedList } from '../store/json-lists.js';
import { requireActorScope, type Actor, type AdminDeps } from './actor.js';
import { actorNames } from './actor-names.js';
import { checkName, findApp, type Forceable } from './apps.js';
import { checkKeyPolicy, policyDetails, type KeyPolicyInput } from './key-restrictions.js';
import { recordActorAudit } from './audit.js';
import { isoTime } from './clock.js';
import { generateSecret, newId, secretHint } from './credentials.js';
import { forcedDetails, guardLastRootAdmin } from './last-root-admin.js';
import { requireWithinCaller } from './least-privilege.js';
import { KEY_STATUSES, toKeyView, type KeyStatus, type KeyView } from './key-status.js';
import { pageQuery, toPage, type Page, type PageInput } from './pagination.js';

export interface NewKey {
  readonly orgId: string;
  readonly appId: string;
  readonly name: string;
  readonly expiresAt: number | null;
  readonly actor: string;
  /** The key's own scopes (checked by the caller); null or absent: whatever its app grants. */
  readonly scopes?: readonly string[] | null;
  /** The key's own IP allow-list (checked by the caller); null or absent: its app's. */
  readonly allowedIps?: readonly string[] | null;
}

/** What making a key's row takes: the argon2 hasher and the lookup digest of leak reports (secret-digest.ts). */
export type KeyMaker = Pick<AdminDeps, 'hasher' | 'secretDigest'>;

/** Builds the row of a new key (hashing its secret) without storing it, so callers can insert it in their transaction. */
export async function prepareKey(maker: KeyMaker, nowMs: number, input: NewKey): Promise<{ row: ApiKeyRow; secret: string }> {
  const secret = generateSecret();
  const row: ApiKeyRow = {
    id: newId('key', nowMs),
    org_id: input.orgId,
    app_id: input.appId,
    name: input.name,
    secret_hash: await maker.hasher.hash(secret),
    secret_hint: secretHint(secret),
    created_at: nowMs,
    created_by: input.actor,
    expires_at: input.expiresAt,
    revoked_at: null,
    revoked_by: null,
    revoke_reason: null,
    last_used_at: null,
    last_used_ip: null,
    use_count: 0,
    scopes: storedList(input.scopes),
    allowed_ips: storedList(input.allowedIps),
    secret_digest: maker.secretDigest(secret),
    expiring_notified_at: null,
    expired_notified_at: null,
    unused_notified_at: null,
  };
  return { row, secret };
}

// ---------------------------------------------------------------------------------------
// Admin use cases for keys. Keys are immutable: they are created, revoked, rolled (a new
// key now, the old one expiring after a grace period) or deleted. Every store call is
// scoped by the actor's org, and the keys of deleted apps are invisible.

export const DAY_MS = 86_400_000;
export const ROLL_GRACE_MAX_SECONDS = 30 * 86_400;
export const REVOKE_REASON_MAX = 500;
export const UNUSED_DAYS_MAX = 36_500;

export interface CreatedKey {
  readonly key: KeyView;
  /** Shown once; only its argon2id hash is stored. */
  readonly secret: string;
}

export interface RolledKey extends CreatedKey {
  /** The key that was rolled, with its new (earlier) expiry. */
  readonly previous: KeyView;
}

export interface ListKeysInput extends PageInput {
  readonly appId?: string;
  readonly status?: KeyStatus;
  /** Keys whose last use (or, never used, creation) is at least this many days ago. */
  readonly unusedDays?: number;
}

export function keyNotFound(keyId: string): NotFoundError {
  return new NotFoundError(`no key ${keyId} in this organization`);
}


/**
 * The expiry of a new key. `requested`: a time, null for "never", undefined for the
 * default. SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS both caps and defaults it.
 */
export function resolveKeyExpiry(deps: Pick<AdminDeps, 'config'>, now: number, requested: number | null | undefined): number | null {
  const days = deps.config.keyMaxLifetimeDays;
  const latest = days === null ? null : now + days * DAY_MS;
  if (requested === undefined) return latest;
  if (requested === null) {
    if (latest !== null) {
      throw new InvalidRequestError(`expires_at: keys must expire within ${days} days on this server (SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS)`);
    }
    return null;
  }
  if (!Number.isSafeInteger(requested) || requested <= now) throw new InvalidRequestError('expires_at: must be in the future');
  if (latest !== null && requested > latest) {
    throw new InvalidRequestError(`expires_at: must be within ${days} days from now (SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS)`);
  }
  return requested;
}

/** A key of a live app of the actor's org, or NotFoundError. */
async function findKey(deps: Pick<AdminDeps, 'db'>, actor: Actor, keyId: string): Promise<ApiKeyView> {
  const key = await keysStore.getApiKey(deps.db, actor.orgId, keyId);
  if (!key) throw keyNotFound(keyId);
  return key;
}

/** A key the actor may change: one of an app whose admin power the actor holds (least-privilege.ts). */
async function findKeyToChange(deps: AdminDeps, actor: Actor, keyId: string): Promise<ApiKeyView> {
  const key = await findKey(deps, actor, keyId);
  requireWithinCaller(deps.catalog, actor, (await findApp(deps, actor, key.app_id)).scopes);
  return key;
}

/** toKeyView, with the names of who made and revoked it looked up. */
async function keyView(deps: Pick<AdminDeps, 'db'>, key: ApiKeyView, now: number): Promise<KeyView> {
  return toKeyView(key, now, await actorNames(deps.db, [key.created_by, key.revoked_by]));
}

async function rereadKey(deps: AdminDeps, actor: Actor, keyId: string): Promise<KeyView> {
  return keyView(deps, await findKey(deps, actor, keyId), deps.clock.now());
}

export async function listKeys(deps: AdminDeps, actor: Actor, input: ListKeysInput = {}): Promise<Page<KeyView>> {
  requireActorScope(actor, 'admin.apps:view');
  const query = pageQuery(input);
  if (input.status !== undefined && !KEY_STATUSES.includes(input.status)) {
    throw new InvalidRequestError(`status: expected one of ${KEY_STATUSES.join(', ')}`);
  }
  if (input.unusedDays !== undefined && (!Number.isInteger(input.unusedDays) || input.unusedDays < 1 || input.unusedDays > UNUSED_DAYS_MAX)) {
    throw new InvalidRequestError(`unused_days: expected a whole number from 1 to ${UNUSED_DAYS_MAX}`);
  }
  // Filtering by an app that is not there is a 404, as for GET /v1/apps/{id}/keys.
  if (input.appId !== undefined) await findApp(deps, actor, input.appId);
  const now = deps.clock.now();
  const rows = await keysStore.listApiKeys(deps.db, actor.orgId, {
    ...(input.appId === undefined ? {} : { appId: input.appId }),
    ...(input.status === undefined ? {} : { status: input.status }),
    ...(input.unusedDays === undefined ? {} : { idleSince: now - input.unusedDays * DAY_MS }),
    now,
    limit: query.limit + 1,
    before: query.before,
  });
  const names = await actorNames(deps.db, rows.flatMap((row) => [row.created_by, row.revoked_by]));
  return toPage(rows, query, (row) => toKeyView(row, now, names));
}

export async function getKey(deps: AdminDeps, actor: Actor, input: { keyId: string }): Promise<KeyView> {
  requireActorScope(actor, 'admin.apps:view');
  return rereadKey(deps, actor, input.keyId);
}

/**
 * Issues a key for an app. `scopes` and `allowedIps` (optional, fixed for the key's life)
 * narrow what its app grants and where its exchanges may come from (key-policies.ts).
 */
export async function createKey(
  deps: AdminDeps,
  actor: Actor,
  input: { appId: string; name: string; expiresAt?: number | null } & KeyPolicyInput,
): Promise<CreatedKey> {
  requireActorScope(actor, 'admin.apps:edit');
  const name = checkName('name', input.name);
  const app = await findApp(deps, actor, input.appId);
  // A key is as powerful as its app (its own scopes only narrow what it may ask for), so
  // issuing one for a stronger app would be an escalation.
  requireWithinCaller(deps.catalog, actor, app.scopes);
  const policy = checkKeyPolicy(deps.catalog, app, input);
  const now = deps.clock.now();
  const expiresAt = resolveKeyExpiry(deps, now, input.expiresAt);
  // Hash before the transaction: argon2 is slow and SQLite has one writer.
  const { row, secret } = await prepareKey(deps, now, { orgId: actor.orgId, appId: app.id, name, expiresAt, actor: actor.id, ...policy });
  await deps.db.transaction().execute(async (trx) => {
    await keysStore.insertApiKey(trx, row);
    await recordActorAudit(trx, deps.clock, actor, {
      action: 'key.created',
      targetType: 'key',
      targetId: row.id,
      details: { app_id: app.id, name, expires_at: isoTime(expiresAt), ...policyDetails(policy) },
    });
  });
  return { key: await keyView(deps, keysStore.toApiKeyView(row), now), secret };
}

/**
 * Idempotent: revoking a revoked key changes nothing and returns it with the original
 * revoked_at, revoked_by and reason. Once this returns, no new exchange of the key succeeds
 * on any process sharing the database (the exchange reads the key row every time).
 */
export async function revokeKey(deps: AdminDeps, actor: Actor, input: { keyId: string; reason?: string | null } & Forceable): Promise<KeyView> {
  requireActorScope(actor, 'admin.apps:edit');
  const reason = input.reason ?? null;
  if (reason !== null && reason.length > REVOKE_REASON_MAX) {
    throw new InvalidRequestError(`reason: expected at most ${REVOKE_REASON_MAX} characters`);
  }
  const key = await findKeyToChange(deps, actor, input.keyId);
  if (key.revoked_at === null) {
    await deps.db.transaction().execute(async (trx) => {
      const guard = await guardLastRootAdmin(trx, deps, actor, { keyIds: [key.id] }, input);
      const revoked = await keysStore.revokeApiKey(trx, actor.orgId, key.id, { at: deps.clock.now(), by: actor.id, reason });
      // Lost a race with another revoke (or a delete): theirs stands, and they audit it.
      if (!revoked) return;
      await recordActorAudit(trx, deps.clock, actor, {
        action: 'key.revoked',
        targetType: 'key',
        targetId: key.id,
        details: { app_id: key.app_id, name: key.name, reason, ...forcedDetails(guard) },
      });
    });
  }
  return rereadKey(deps, actor, key.id);
}

/**
 * Issues a new key for the same app with the same name, scopes and IP list, and makes the
 * old one expire after `graceSeconds` (0 to 30 days; never later than it already would). The
 * new key keeps the old one's lifetime when it had one, unless `expiresAt` says otherwise.
 */
export async function rollKey(
  deps: AdminDeps,
  actor: Actor,
  input: { keyId: string; graceSeconds: number; expiresAt?: number | null },
): Promise<RolledKey> {
  requireActorScope(actor, 'admin.apps:edit');
  if (!Number.isInteger(input.graceSeconds) || input.graceSeconds < 0 || input.graceSeconds > ROLL_GRACE_MAX_SECONDS) {
    throw new InvalidRequestError(`grace_seconds: expected a whole number from 0 to ${ROLL_GRACE_MAX_SECONDS} (30 days)`);
  }
  const old = await findKeyToChange(deps, actor, input.keyId);
  if (old.revoked_at !== null) throw new ConflictError(`key ${old.id} is revoked; create a new key instead of rolling it`);

  const now = deps.clock.now();
  let requested = input.expiresAt;
  if (requested === undefined && old.expires_at !== null && old.expires_at > old.created_at) {
    const lifetime = old.expires_at - old.created_at;
    const cap = deps.config.keyMaxLifetimeDays === null ? Infinity : deps.config.keyMaxLifetimeDays * DAY_MS;
    requested = now + Math.min(lifetime, cap);
  }
  const expiresAt = resolveKeyExpiry(deps, now, requested);
  const graceEnd = now + input.graceSeconds * 1000;
  const oldExpiresAt = old.expires_at === null ? graceEnd : Math.min(old.expires_at, graceEnd);

  // Its scopes and IP list as they are: the exchange applies the app's current ones on top.
  const policy = { scopes: old.scopes, allowedIps: old.allowed_ips };
  const { row, secret } = await prepareKey(deps, now, { orgId: actor.orgId, appId: old.app_id, name: old.name, expiresAt, actor: actor.id, ...policy });
  await deps.db.transaction().execute(async (trx) => {
    if (!(await keysStore.setApiKeyExpiry(trx, actor.orgId, old.id, oldExpiresAt))) {
      throw new ConflictError(`key ${old.id} was revoked or deleted meanwhile`);
    }
    await keysStore.insertApiKey(trx, row);
    await recordActorAudit(trx, deps.clock, actor, {
      targetType: 'key',
      action: 'key.rolled',
      targetId: old.id,
      details: { app_id: old.app_id, name: old.name, new_key_id: row.id, grace_seconds: input.graceSeconds, expires_at: isoTime(oldExpiresAt) },
    });
    await recordActorAudit(trx, deps.clock, actor, {
      targetType: 'key',
      action: 'key.created',
      targetId: row.id,
      details: { app_id: old.app_id, name: old.name, expires_at: isoTime(expiresAt), rolled_from: old.id, ...policyDetails(policy) },
    });
  });
  const names = await actorNames(deps.db, [row.created_by, old.created_by, old.revoked_by]);
  return { key: toKeyView(keysStore.toApiKeyView(row), now, names), secret, previous: toKeyView({ ...old, expires_at: oldExpiresAt }, now, names) };
}

/** Permanent: a later exchange with the key fails as an unknown key. */
export async function deleteKey(deps: AdminDeps, actor: Actor, input: { keyId: string } & Forceable): Promise<void> {
  requireActorScope(actor, 'admin.apps:edit');
  const key = await findKeyToChange(deps, actor, input.keyId);
  await deps.db.transaction().execute(async (trx) => {
    const guard = await guardLastRootAdmin(trx, deps, actor, { keyIds: [key.id] }, input);
    if (!(await keysStore.deleteApiKey(trx, actor.orgId, key.id))) throw keyNotFound(key.id);
    await recordActorAudit(trx, deps.clock, actor, {
      action: 'key.deleted',
      targetType: 'key',
      targetId: key.id,
      details: { app_id: key.app_id, name: key.name, ...forcedDetails(guard) },
    });
  });
}
