// SQLite through better-sqlite3: WAL, foreign keys on, a busy timeout for the CLI writing
// beside a running server.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, SqliteDialect } from 'kysely';
import type { DatabaseHandle, DatabaseOptions } from './database.js';
import { PreparingDb } from './preparing-db.js';

/** A SQLite file that is not there, with `mustExist`. */
export class DatabaseNotFoundError extends Error {
  override name = 'DatabaseNotFoundError';
}

function sqlitePath(url: string): string {
  const path = url.slice('sqlite:'.length);
  return path === ':memory:' ? path : path.replace(/^\/\/(?=\/)/, '');
}

export function openSqlite(url: string, options: DatabaseOptions): DatabaseHandle {
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
