// The one place that knows which SQL dialect runs: createDatabase picks sqlite.ts or
// postgres.ts from the URL; everything else sees a Db.
import { Kysely, Migrator, PostgresAdapter, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { migrations } from '../../db/migrations/index.js';
import { openPostgres } from './postgres.js';
import type { Database } from './schema.js';
import { openSqlite } from './sqlite.js';

export { DatabaseNotFoundError } from './sqlite.js';

export { PreparingDb } from './preparing-db.js';
export type { BatchedRead, PreparedRead } from './preparing-db.js';

export type Db = Kysely<Database>;
export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  readonly db: Db;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

/** PostgreSQL's connection pool (SQLite has one connection): the configuration's own fields. */
export type PoolSettings = Pick<Config['database'], 'poolSize' | 'acquireTimeoutMs' | 'statementTimeoutMs'>;

export interface DatabaseOptions {
  /** PostgreSQL only: the schema to use (created when missing); tests give each file its own. */
  readonly schema?: string;
  /** SQLite only: refuse to create the file (the CLI must not leave empty databases behind). */
  readonly mustExist?: boolean;
  /** PostgreSQL only; without it, the configuration's defaults. */
  readonly pool?: PoolSettings;
  /** Where a connection lost while idle is reported (at warn). */
  readonly logger?: Logger;
}

/** Opens `sqlite:<path>` or `postgres://…`; does not migrate. */
export async function createDatabase(url: string, options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  if (url.startsWith('sqlite:')) return openSqlite(url, options);
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options);
  throw new Error('unsupported database URL: expected sqlite:<path> or postgres://…');
}

/** SQLSTATEs of a schema or table that vanished while the catalogue was being read. */
const VANISHED = new Set(['3F000', '42P01']);
const MIGRATE_ATTEMPTS = 3;

/**
 * Applies every pending migration; throws with the failing migration's name.
 *
 * Before it migrates, kysely's Migrator lists the tables of every schema of the database to
 * find its own; on PostgreSQL that listing fails ("schema … does not exist") when another
 * schema of the same database is dropped at that moment — another installation, or another
 * test file cleaning up. Nothing was applied then, so the whole step is tried again.
 */
export async function migrateToLatest(db: Db): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, ...(await migrationTableSchema(db)) });
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return;
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const code = (error as { code?: unknown }).code;
    if (failed === undefined && typeof code === 'string' && VANISHED.has(code) && attempt < MIGRATE_ATTEMPTS) continue;
    throw new Error(`migration ${failed ?? 'unknown'} failed: ${(error as Error).message}`, { cause: error });
  }
}

export interface MigrationStatus {
  /** Migrations the database has applied. */
  readonly applied: string[];
  /** Migrations of this code the database has not applied yet, in order. */
  readonly pending: string[];
  /** Migrations the database has applied that this code does not know (a newer version ran). */
  readonly unknown: string[];
}

/**
 * Read-only (unlike kysely's Migrator, which creates its tables): lets the CLI refuse to
 * work on a schema other than the one it was written for without changing anything.
 */
export async function migrationStatus(db: Db): Promise<MigrationStatus> {
  await ping(db);
  let applied: string[];
  try {
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
    applied = rows.map((row) => row.name);
  } catch {
    // The database answered the ping, so the table is missing: nothing was ever applied.
    applied = [];
  }
  const known = Object.keys(migrations).sort();
  return { applied, pending: known.filter((name) => !applied.includes(name)), unknown: applied.filter((name) => !known.includes(name)).sort() };
}

/**
 * On PostgreSQL, the schema of kysely's own migration tables: ours. Left unset, kysely finds
 * "its" tables in any schema of the database, so a fresh schema next to a migrated one (test
 * files, or two installations in one database) skips creating them and fails.
 */
async function migrationTableSchema(db: Db): Promise<{ migrationTableSchema?: string }> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return {};
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  return schema ? { migrationTableSchema: schema } : {};
}

/** The dialect a Db (or a transaction of one) runs on. */
export function dialectOf(db: Db): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Whether `select … for update` locks rows (PostgreSQL); SQLite serializes writers instead. */
export function hasRowLocks(db: Db): boolean {
  return dialectOf(db) === 'postgres';
}

/** Cheap reachability probe for /readyz. */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
