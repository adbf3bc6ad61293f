// The one place that knows which SQL dialect runs.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, Migrator, PostgresAdapter, PostgresDialect, SqliteDialect, sql, type KyselyConfig } from 'kysely';
import pg from 'pg';
import { migrations } from '../../db/migrations/index.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;
export type Dialect = 'sqlite' | 'postgres';

/** A read compiled once and run as a prepared statement; see {@link PreparingDb}. */
export interface PreparedRead<Row> {
  first(parameters: readonly unknown[]): Promise<Row | undefined>;
}

type Prepare = (db: Db, name: string, query: CompiledQuery) => PreparedRead<unknown>;

/**
 * The Db that createDatabase returns: a Kysely that can also run a hot-path read as a
 * statement prepared once — better-sqlite3 `prepare`d once; on PostgreSQL a named statement,
 * parsed and planned once per pooled connection — skipping kysely's builder, compiler and
 * per-call prepare. A Transaction (or any other Kysely) is not one, so code that receives a
 * plain Db falls back to the kysely query and stays inside the caller's transaction.
 */
export class PreparingDb extends Kysely<Database> {
  readonly #prepare: Prepare;
  readonly #reads = new Map<string, PreparedRead<unknown>>();

  constructor(config: KyselyConfig, prepare: Prepare) {
    super(config);
    this.#prepare = prepare;
  }

  /** The read named `name`, compiled by `build` on first use; a name must always stand for the same query. */
  prepared<Row>(name: string, build: () => CompiledQuery<Row>): PreparedRead<Row> {
    let read = this.#reads.get(name);
    if (read === undefined) {
      read = this.#prepare(this, name, build());
      this.#reads.set(name, read);
    }
    return read as PreparedRead<Row>;
  }
}

export interface DatabaseHandle {
  readonly db: Db;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL only: the schema to use (created when missing); tests give each file its own. */
  readonly schema?: string;
  /** SQLite only: refuse to create the file (the CLI must not leave empty databases behind). */
  readonly mustExist?: boolean;
}

/** A SQLite file that is not there, with `mustExist`. */
export class DatabaseNotFoundError extends Error {
  override name = 'DatabaseNotFoundError';
}

const PG_INT8 = 20;

function sqlitePath(url: string): string {
  const path = url.slice('sqlite:'.length);
  return path === ':memory:' ? path : path.replace(/^\/\/(?=\/)/, '');
}

function openSqlite(url: string, options: DatabaseOptions): DatabaseHandle {
  const path = sqlitePath(url);
  if (options.mustExist && path !== ':memory:' && !existsSync(path)) throw new DatabaseNotFoundError(`no SQLite database at ${path}`);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new SQLite(path);
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  database.pragma('synchronous = NORMAL');
  const db = new PreparingDb({ dialect: new SqliteDialect({ database }) }, (self, _name, query) => {
    const statement = database.prepare(query.sql);
    return {
      async first(parameters) {
        // kysely runs everything on this one connection behind a mutex; while a transaction
        // holds it, read through kysely (which waits) rather than inside someone's transaction.
        if (database.inTransaction) return (await self.executeQuery(CompiledQuery.raw(query.sql, [...parameters]))).rows[0];
        return statement.get(...parameters);
      },
    };
  });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<DatabaseHandle> {
  const schema = options.schema;
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`create schema if not exists ${schema}`);
    } finally {
      await client.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    // Epoch-millisecond bigints fit a JS number exactly; read them as numbers, not strings.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  const db = new PreparingDb({ dialect: new PostgresDialect({ pool }) }, (_self, name, query) => ({
    async first(parameters) {
      // pg prepares a named statement on each pooled connection the first time it runs there.
      const result = await pool.query({ name, text: query.sql, values: [...parameters] });
      return result.rows[0];
    },
  }));
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

/** Opens `sqlite:<path>` or `postgres://…`; does not migrate. */
export async function createDatabase(url: string, options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  if (url.startsWith('sqlite:')) return openSqlite(url, options);
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options);
  throw new Error('unsupported database URL: expected sqlite:<path> or postgres://…');
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, ...(await migrationTableSchema(db)) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${(error as Error).message}`, { cause: error });
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

/** Whether `select … for update` locks rows (PostgreSQL); SQLite serializes writers instead. */
export function hasRowLocks(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** Cheap reachability probe for /readyz. */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
