// The keys' last-used figures (domain/last-used.ts batches them about a second after use):
// one statement per batch, safe against other processes flushing the same keys.
import { sql } from 'kysely';
import { hasRowLocks, type Db } from './database.js';

export interface LastUsedUpdate {
  keyId: string;
  at: number;
  ip: string | null;
  count: number;
}

/**
 * Applies batched last-used figures in one statement; a later timestamp from another process
 * is never overwritten. The caller bounds the batch (the statement carries four parameters
 * per key).
 */
export async function recordLastUsed(db: Db, updates: readonly LastUsedUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  // Typed explicitly: PostgreSQL would otherwise read the VALUES parameters as text.
  const values = sql.join(updates.map((u) => sql`(${u.keyId}, cast(${u.at} as bigint), cast(${u.ip} as text), cast(${u.count} as bigint))`));
  const newer = sql`(api_keys.last_used_at is null or api_keys.last_used_at < v.at)`;
  await db.transaction().execute(async (trx) => {
    // Rows are locked in key-id order, the same in every process, so two processes flushing
    // overlapping batches queue behind each other instead of deadlocking (PostgreSQL aborts
    // one). The join of the update below would lock them in whatever order its plan visits
    // them, so they are locked first, in order. SQLite has a single writer and no row locks.
    if (hasRowLocks(trx)) {
      await trx
        .selectFrom('api_keys')
        .select('id')
        .where('id', 'in', updates.map((u) => u.keyId))
        .orderBy('id')
        .forUpdate()
        .execute();
    }
    await sql`
      with v(id, at, ip, n) as (values ${values})
      update api_keys set
        use_count = api_keys.use_count + v.n,
        last_used_ip = case when ${newer} then v.ip else api_keys.last_used_ip end,
        last_used_at = case when ${newer} then v.at else api_keys.last_used_at end
      from v
      where api_keys.id = v.id`.execute(trx);
  });
}
