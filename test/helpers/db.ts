// The dialect matrix: every store and route test runs on SQLite, and on PostgreSQL when
// SCOPE_AUTH_TEST_DATABASE_URL is set (each test file in a schema of its own).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import pg from 'pg';
import { migrations } from '../../db/migrations/index.js';
import { createDatabase, migrateToLatest, type DatabaseHandle, type Dialect } from '../../src/store/database.js';

export const PG_URL = process.env.SCOPE_AUTH_TEST_DATABASE_URL;

export interface DialectCase {
  readonly dialect: Dialect;
  /** Set when the dialect cannot run here; the describe block is skipped with this message in its name. */
  readonly skip: string | null;
}

export const DIALECTS: DialectCase[] = [
  { dialect: 'sqlite', skip: null },
  { dialect: 'postgres', skip: PG_URL ? null : 'skipped: set SCOPE_AUTH_TEST_DATABASE_URL to run on PostgreSQL' },
];

/** `describe.each(DIALECTS)` title: "sqlite" or "postgres (skipped: …)". */
export const dialectTitle = (c: DialectCase) => (c.skip ? `${c.dialect} (${c.skip})` : c.dialect);

export interface TestDatabase {
  readonly handle: DatabaseHandle;
  /** The URL (for SQLite, a file in a temp dir) other processes can open. */
  readonly url: string;
  /** PostgreSQL schema, to open a second handle on the same data. */
  readonly schema?: string;
  close(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Apply only the migrations named before this one: the schema as an older version left it (migrateToLatest then upgrades it). */
  readonly before?: string;
}

async function migrate(handle: DatabaseHandle, options: TestDatabaseOptions, schema?: string): Promise<void> {
  const { before } = options;
  if (before === undefined) return migrateToLatest(handle.db);
  if (!(before in migrations)) throw new Error(`no migration ${before}`);
  const older = Object.entries(migrations).filter(([name]) => name < before);
  const migrator = new Migrator({
    db: handle.db,
    provider: { getMigrations: async () => Object.fromEntries(older) },
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

/** A fresh, migrated database of the dialect; every call gets its own file or schema. */
export async function openTestDatabase(dialect: Dialect, options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'scope-auth-test-'));
    const url = `sqlite:${join(dir, 'test.sqlite')}`;
    const handle = await createDatabase(url);
    await migrate(handle, options);
    return {
      handle,
      url,
      async close() {
        await handle.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!PG_URL) throw new Error('SCOPE_AUTH_TEST_DATABASE_URL is not set');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const handle = await createDatabase(PG_URL, { schema });
  await migrate(handle, options, schema);
  return {
    handle,
    url: PG_URL,
    schema,
    async close() {
      await handle.close();
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}
