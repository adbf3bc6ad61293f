// The dialect matrix: every store and route test runs on SQLite, and on PostgreSQL when
// SCOPE_AUTH_TEST_DATABASE_URL is set (each test file in a schema of its own).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
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

/** A fresh, migrated database of the dialect; every call gets its own file or schema. */
export async function openTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'scope-auth-test-'));
    const url = `sqlite:${join(dir, 'test.sqlite')}`;
    const handle = await createDatabase(url);
    await migrateToLatest(handle.db);
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
  await migrateToLatest(handle.db);
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
