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
  all(parameters: readonly unknown[]): Promise<Row[]>;
}

/** Rows by id, read in batches; see {@link PreparingDb.batched}. */
export interface BatchedRead<Row> {
  get(id: string): Promise<Row | undefined>;
}

/** The most ids one batched read asks for; more are split into several reads. */
const MAX_BATCH = 32;

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
  readonly #batched = new Map<string, BatchedRead<unknown>>();

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

  /**
   * Rows by id, where every id asked for in the same turn of the event loop is read by one
   * query: `build(n)` compiles the query for n ids (`where id in (?, …)`, prepared once per
   * n). Under load, requests that arrive together share one statement — on PostgreSQL one
   * round trip instead of one per request. Each read still happens after it was asked for,
   * so it sees every change committed before that.
   */
  batched<Row extends { id: string }>(name: string, build: (count: number) => CompiledQuery<Row>): BatchedRead<Row> {
    let batcher = this.#batched.get(name) as BatchedRead<Row> | undefined;
    if (batcher === undefined) {
      batcher = new IdBatcher<Row>((ids) => this.prepared(`${name}_${ids.length}`, () => build(ids.length)).all(ids));
      this.#batched.set(name, batcher);
    }
    return batcher;
  }
}

interface Waiter<Row> {
  resolve(row: Row | undefined): void;
  reject(error: unknown): void;
}

/** Collects ids until the event loop's check phase (after the I/O callbacks of this turn), then reads them. */
class IdBatcher<Row extends { id: string }> implements BatchedRead<Row> {
  #waiting = new Map<string, Waiter<Row>[]>();
  #scheduled = false;

  constructor(private readonly read: (ids: string[]) => Promise<Row[]>) {}

  get(id: string): Promise<Row | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.#waiting.get(id);
      if (waiters === undefined) this.#waiting.set(id, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    const waiting = this.#waiting;
    this.#waiting = new Map();
    this.#scheduled = false;
    const ids = [...waiting.keys()];
    for (let start = 0; start < ids.length; start += MAX_BATCH) void this.#answer(ids.slice(start, start + MAX_BATCH), waiting);
  }

  async #answer(ids: string[], waiting: Map<string, Waiter<Row>[]>): Promise<void> {
    try {
      const rows = await this.read(ids);
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const id of ids) for (const waiter of waiting.get(id)!) waiter.resolve(byId.get(id));
    } catch (error) {
      for (const id of ids) for (const waiter of waiting.get(id)!) waiter.reject(error);
    }
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
    // kysely runs everything on this one connection behind a mutex; while a transaction
    // holds it, read through kysely (which waits) rather than inside someone's transaction.
    return {
      async all(parameters) {
        if (database.inTransaction) return (await self.executeQuery(CompiledQuery.raw(query.sql, [...parameters]))).rows;
        return statement.all(...parameters);
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
  const db = new PreparingDb({ dialect: new PostgresDialect({ pool }) }, (_self, name, query) => {
    // pg prepares a named statement on each pooled connection the first time it runs there.
    return {
      all: async (parameters) => (await pool.query({ name, text: query.sql, values: [...parameters] })).rows,
    };
  });
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
  return dialectOf(db) === 'postgres';
}

/** The dialect behind a Db or a transaction of it. */
export function dialectOf(db: Db): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** Cheap reachability probe for /readyz. */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
