import { sql } from 'kysely';
import type { Db } from './database.js';
import type { ApiKeysTable } from './schema.js';

export type ApiKeyRow = ApiKeysTable;

export async function insertApiKey(db: Db, row: ApiKeyRow): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

/** What an exchange needs about a key and its app, in one read. */
export interface ExchangeKeyRow {
  id: string;
  org_id: string;
  app_id: string;
  secret_hash: string;
  expires_at: number | null;
  revoked_at: number | null;
  app_scopes: string;
  app_audience: string | null;
  app_token_ttl_seconds: number | null;
  app_deleted_at: number | null;
}

/** The key by id across all orgs: the exchange authenticates before it knows the tenant. */
export async function findKeyForExchange(db: Db, keyId: string): Promise<ExchangeKeyRow | undefined> {
  return db
    .selectFrom('api_keys as k')
    .innerJoin('apps as a', 'a.id', 'k.app_id')
    .select([
      'k.id',
      'k.org_id',
      'k.app_id',
      'k.secret_hash',
      'k.expires_at',
      'k.revoked_at',
      'a.scopes as app_scopes',
      'a.audience as app_audience',
      'a.token_ttl_seconds as app_token_ttl_seconds',
      'a.deleted_at as app_deleted_at',
    ])
    .where('k.id', '=', keyId)
    .executeTakeFirst();
}

export interface LastUsedUpdate {
  keyId: string;
  at: number;
  ip: string | null;
  count: number;
}

/** Applies batched last-used figures; a later timestamp from another process is never overwritten. */
export async function recordLastUsed(db: Db, updates: readonly LastUsedUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const u of updates) {
      const newer = sql<boolean>`(last_used_at is null or last_used_at < ${u.at})`;
      await trx
        .updateTable('api_keys')
        .set({
          use_count: sql`use_count + ${u.count}`,
          last_used_ip: sql`case when ${newer} then ${u.ip} else last_used_ip end`,
          last_used_at: sql`case when ${newer} then ${u.at} else last_used_at end`,
        })
        .where('id', '=', u.keyId)
        .execute();
    }
  });
}
