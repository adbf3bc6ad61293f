import type { Kysely } from 'kysely';

// Failed-exchange counters shared by every instance on one PostgreSQL database: one row per
// throttled subject (a client address, or an address and a key id) and its current one-minute
// window. SQLite keeps its counters in memory (one instance per file) and leaves this empty.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('throttle_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .execute();
  // The sweep deletes ended windows a bounded batch at a time.
  await db.schema.createIndex('throttle_counters_ends_at').on('throttle_counters').column('ends_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('throttle_counters').execute();
}
