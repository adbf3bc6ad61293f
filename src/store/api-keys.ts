import { PreparingDb, type Db } from './database.js';
import { parsedList } from './json-lists.js';
import type { ApiKeysTable } from './schema.js';

export type ApiKeyRow = ApiKeysTable;

export async function insertApiKey(db: Db, row: ApiKeyRow): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

/** What an exchange needs about a key, its app and its org, in one read. */
export interface ExchangeKeyRow {
  id: string;
  org_id: string;
  app_id: string;
  secret_hash: string;
  expires_at: number | null;
  revoked_at: number | null;
  /** The key's own scopes as stored (JSON text, or null: whatever its app grants). */
  key_scopes: string | null;
  /** The key's IP allow-list as stored (JSON text, or null: its app's). */
  key_allowed_ips: string | null;
  app_scopes: string;
  /** The app's IP allow-list as stored (JSON text, or null: any address). */
  app_allowed_ips: string | null;
  app_audience: string | null;
  app_token_ttl_seconds: number | null;
  app_deleted_at: number | null;
  /** The org's allowance as stored (JSON text, or null: every non-admin scope). */
  org_allowed_scopes: string | null;
  org_disabled_at: number | null;
}

function exchangeKeySelect(db: Db) {
  return db
    .selectFrom('api_keys as k')
    .innerJoin('apps as a', 'a.id', 'k.app_id')
    .innerJoin('orgs as o', 'o.id', 'k.org_id')
    .select([
      'k.id',
      'k.org_id',
      'k.app_id',
      'k.secret_hash',
      'k.expires_at',
      'k.revoked_at',
      'k.scopes as key_scopes',
      'k.allowed_ips as key_allowed_ips',
      'a.scopes as app_scopes',
      'a.allowed_ips as app_allowed_ips',
      'a.audience as app_audience',
      'a.token_ttl_seconds as app_token_ttl_seconds',
      'a.deleted_at as app_deleted_at',
      'o.allowed_scopes as org_allowed_scopes',
      'o.disabled_at as org_disabled_at',
    ]);
}

/** `count` parameters for a statement compiled once; the values are bound when it runs. */
const placeholders = (count: number): string[] => Array.from({ length: count }, () => '');

/**
 * The key by id across all orgs: the exchange authenticates before it knows the tenant.
 * Every exchange and every admin request runs it, so on a database from createDatabase it
 * is a prepared statement that answers all the lookups of one turn of the event loop at
 * once ({@link PreparingDb.batched}); elsewhere (inside a transaction) the kysely query.
 */
export async function findKeyForExchange(db: Db, keyId: string): Promise<ExchangeKeyRow | undefined> {
  if (db instanceof PreparingDb) {
    return db.batched('scope_auth_find_keys_for_exchange', (count) => exchangeKeySelect(db).where('k.id', 'in', placeholders(count)).compile()).get(keyId);
  }
  return selectKeyForExchange(db, keyId);
}

/** findKeyForExchange through kysely's builder, as any other query. */
export async function selectKeyForExchange(db: Db, keyId: string): Promise<ExchangeKeyRow | undefined> {
  return exchangeKeySelect(db).where('k.id', '=', keyId).executeTakeFirst();
}

/** What a leak report needs about a key its secret may be: enough to verify the secret and revoke the key. */
export interface LeakCandidateRow {
  id: string;
  org_id: string;
  app_id: string;
  name: string;
  secret_hash: string;
  secret_digest: string | null;
  revoked_at: number | null;
}

/**
 * The keys whose lookup digest is one of `digests`, across all orgs: a leaked secret is
 * reported by whoever found it, who knows neither its org nor its key. Normally one key per
 * digest; the caller verifies the secret against each hash before believing any.
 */
export async function findKeysByDigest(db: Db, digests: readonly string[]): Promise<LeakCandidateRow[]> {
  if (digests.length === 0) return [];
  return db
    .selectFrom('api_keys')
    .select(['id', 'org_id', 'app_id', 'name', 'secret_hash', 'secret_digest', 'revoked_at'])
    .where('secret_digest', 'in', [...digests])
    .orderBy('id')
    .execute();
}

/** A key as admins see it: never the hash or the digest, nor the reminders' bookkeeping; its own scopes and IP list parsed (null: its app's). */
export type ApiKeyView = Omit<
  ApiKeyRow,
  'secret_hash' | 'secret_digest' | 'scopes' | 'allowed_ips' | 'expiring_notified_at' | 'expired_notified_at' | 'unused_notified_at'
> & { scopes: string[] | null; allowed_ips: string[] | null };

type StoredView = Omit<ApiKeyView, 'scopes' | 'allowed_ips'> & { scopes: string | null; allowed_ips: string | null };

/** A key row (or what VIEW_COLUMNS select of it) with its JSON lists parsed: how a row just inserted is shown. */
export function toApiKeyView<T extends StoredView>(row: T): Omit<T, 'scopes' | 'allowed_ips'> & { scopes: string[] | null; allowed_ips: string[] | null } {
  return { ...row, scopes: parsedList(row.scopes), allowed_ips: parsedList(row.allowed_ips) };
}

const VIEW_COLUMNS = [
  'k.id',
  'k.org_id',
  'k.app_id',
  'k.name',
  'k.secret_hint',
  'k.created_at',
  'k.created_by',
  'k.expires_at',
  'k.revoked_at',
  'k.revoked_by',
  'k.revoke_reason',
  'k.last_used_at',
  'k.last_used_ip',
  'k.use_count',
  'k.scopes',
  'k.allowed_ips',
] as const;

/** Keys of live apps of the org: the keys of a deleted app are gone for admins. */
function liveKeys(db: Db, orgId: string) {
  return db
    .selectFrom('api_keys as k')
    .innerJoin('apps as a', (join) => join.onRef('a.id', '=', 'k.app_id').on('a.deleted_at', 'is', null).on('a.org_id', '=', orgId))
    .where('k.org_id', '=', orgId);
}

/** A key of a live app of the org. */
export async function getApiKey(db: Db, orgId: string, keyId: string): Promise<ApiKeyView | undefined> {
  const row = await liveKeys(db, orgId).select(VIEW_COLUMNS).where('k.id', '=', keyId).executeTakeFirst();
  return row && toApiKeyView(row);
}

export type KeyStatusFilter = 'active' | 'revoked' | 'expired';

export interface ApiKeyFilter {
  readonly appId?: string;
  readonly status?: KeyStatusFilter;
  /** Keys last used (or, never used, created) at or before this time. */
  readonly idleSince?: number;
  /** "now" for the status filter. */
  readonly now: number;
  readonly limit: number;
  readonly before: string | null;
}

/** Keys of live apps of the org, newest first, filtered in SQL. */
export async function listApiKeys(db: Db, orgId: string, filter: ApiKeyFilter): Promise<ApiKeyView[]> {
  let query = liveKeys(db, orgId).select(VIEW_COLUMNS);
  if (filter.appId !== undefined) query = query.where('k.app_id', '=', filter.appId);
  switch (filter.status) {
    case 'revoked':
      query = query.where('k.revoked_at', 'is not', null);
      break;
    case 'expired':
      query = query.where('k.revoked_at', 'is', null).where('k.expires_at', '<=', filter.now);
      break;
    case 'active':
      query = query
        .where('k.revoked_at', 'is', null)
        .where((eb) => eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', filter.now)]));
      break;
    case undefined:
      break;
  }
  if (filter.idleSince !== undefined) {
    query = query.where((eb) => eb(eb.fn.coalesce('k.last_used_at', 'k.created_at'), '<=', filter.idleSince!));
  }
  if (filter.before !== null) query = query.where('k.id', '<', filter.before);
  const rows = await query.orderBy('k.id', 'desc').limit(filter.limit).execute();
  return rows.map(toApiKeyView);
}

/**
 * Revokes a key of the org unless it already is (so a second revoke keeps the first one's
 * who, when and why). True when this call revoked it. The exchange reads the key row on
 * every request, so once this commits no new exchange of the key succeeds anywhere.
 */
export async function revokeApiKey(db: Db, orgId: string, keyId: string, revocation: { at: number; by: string; reason: string | null }): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: revocation.at, revoked_by: revocation.by, revoke_reason: revocation.reason })
    .where('org_id', '=', orgId)
    .where('id', '=', keyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Sets the expiry of an unrevoked key of the org; false when the key is gone or revoked. */
export async function setApiKeyExpiry(db: Db, orgId: string, keyId: string, expiresAt: number): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ expires_at: expiresAt })
    .where('org_id', '=', orgId)
    .where('id', '=', keyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Deletes a key of the org for good; false when there is none. */
export async function deleteApiKey(db: Db, orgId: string, keyId: string): Promise<boolean> {
  const result = await db.deleteFrom('api_keys').where('org_id', '=', orgId).where('id', '=', keyId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** How many keys of the org's `appIds` are active at `now` (neither revoked nor expired), leaving out `exceptKeyIds`. */
export async function countActiveKeys(
  db: Db,
  orgId: string,
  filter: { appIds: readonly string[]; exceptKeyIds: readonly string[]; now: number },
): Promise<number> {
  if (filter.appIds.length === 0) return 0;
  let query = db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('org_id', '=', orgId)
    .where('app_id', 'in', [...filter.appIds])
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', filter.now)]));
  if (filter.exceptKeyIds.length > 0) query = query.where('id', 'not in', [...filter.exceptKeyIds]);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n);
}

/** How many keys each of the org's `appIds` has, and how many of them are active at `now`. */
export async function countKeysByApp(db: Db, orgId: string, appIds: readonly string[], now: number): Promise<Map<string, { total: number; active: number }>> {
  const counts = new Map<string, { total: number; active: number }>();
  if (appIds.length === 0) return counts;
  const rows = await db
    .selectFrom('api_keys')
    .select((eb) => [
      'app_id',
      eb.fn.countAll<number | string | bigint>().as('total'),
      eb.fn
        .sum<number | string | bigint | null>(
          eb.case().when(eb.and([eb('revoked_at', 'is', null), eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)])])).then(1).else(0).end(),
        )
        .as('active'),
    ])
    .where('org_id', '=', orgId)
    .where('app_id', 'in', [...appIds])
    .groupBy('app_id')
    .execute();
  for (const row of rows) counts.set(row.app_id, { total: Number(row.total), active: Number(row.active ?? 0) });
  return counts;
}
