// Transactions that never run alongside another transaction of the same name, in this
// process or any other on the database: for a read-decide-write that two processes must not
// both make (two rotations of the signing keys at one moment make exactly one).
import { sql } from 'kysely';
import { dialectOf, type Db } from './database.js';

export type SerializedName = 'signing_keys';

/**
 * PostgreSQL: an advisory lock held until the transaction ends (transaction-scoped, so it
 * also works behind PgBouncer's transaction pooling), keyed by schema and name. SQLite:
 * BEGIN IMMEDIATE takes the database's write lock first, waiting out another writer (the
 * busy timeout), instead of reading and then failing to upgrade to a writer.
 */
export async function serializedTransaction<T>(db: Db, name: SerializedName, work: (trx: Db) => Promise<T>): Promise<T> {
  if (dialectOf(db) === 'postgres') {
    return db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext(coalesce(current_schema(), '') || ${`.${name}`}))`.execute(trx);
      return work(trx);
    });
  }
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await work(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}
