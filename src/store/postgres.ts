// PostgreSQL through a `pg` pool that survives the database's bad days: a connection the
// server (or a network cut, a failover, a pooler) closes while idle is dropped and logged,
// never an uncaught 'error' that ends the process; waiting for a connection and running a
// statement are both bounded, so a stalled database makes a request fail fast instead of
// hanging as long as the stall lasts.
import { CompiledQuery, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../config.js';
import type { DatabaseHandle, DatabaseOptions, PoolSettings } from './database.js';
import { isConnectionLost, isDatabaseUnavailable } from './availability.js';
import { PreparingDb } from './preparing-db.js';

const PG_INT8 = 20;


/**
 * Beyond the statement timeout (enforced by PostgreSQL), how long the client waits for an
 * answer before it gives up on the connection: the statement timeout cannot fire when the
 * database is unreachable.
 */
const READ_TIMEOUT_MARGIN_MS = 1000;

async function ensureSchema(url: string, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`create schema if not exists ${schema}`);
  } finally {
    await client.end();
  }
}

/**
 * kysely returns a client to the pool with a plain release(), so a client whose connection
 * broke during a query would go back to the pool and fail the next caller too. Releasing it
 * with the error makes the pool discard it, as pool.query() does.
 *
 * While a client is checked out (a transaction between its statements, a query being
 * prepared) the pool no longer listens for its 'error' event, and a connection terminated
 * at that moment would emit one with no listener, which ends the process. So a checked-out
 * client has a listener of its own until it is released, and that client is discarded.
 */
function discardingBrokenClients(pool: pg.Pool, logger: DatabaseOptions['logger']): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let broken: Error | undefined;
      const lost = (error: Error) => {
        broken = error;
        logger?.warn({ err: { message: error.message, code: (error as { code?: string }).code } }, 'database connection lost while in use; it will be replaced');
      };
      client.on('error', lost);
      return {
        query: (async (...args: Parameters<pg.PoolClient['query']>) => {
          try {
            return await (client.query as (...a: unknown[]) => Promise<unknown>)(...args);
          } catch (error) {
            if (isDatabaseUnavailable(error)) broken = error as Error;
            throw error;
          }
        }) as PostgresPoolClient['query'],
        release: () => {
          client.off('error', lost);
          client.release(broken);
        },
      };
    },
    end: () => pool.end(),
  };
}

export async function openPostgres(url: string, options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.schema !== undefined) await ensureSchema(url, options.schema);
  const settings: PoolSettings = options.pool ?? loadConfig({}).database;
  const pool = new pg.Pool({
    connectionString: url,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.acquireTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs + READ_TIMEOUT_MARGIN_MS,
    // A connection whose peer vanished without a FIN (a network cut) is noticed by TCP.
    keepAlive: true,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    // Epoch-millisecond bigints fit a JS number exactly; read them as numbers, not strings.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client's connection closed (terminated backend, restart, failover, network cut):
  // the pool has already removed it, and the next query opens a new connection. Without
  // this listener the pool's 'error' event would end the process.
  pool.on('error', (error) => options.logger?.warn({ err: { message: error.message, code: (error as { code?: string }).code } }, 'database connection lost while idle; it will be replaced'));
  const db = new PreparingDb({ dialect: new PostgresDialect({ pool: discardingBrokenClients(pool, options.logger) }) }, (_self, name, query: CompiledQuery) => {
    // pg prepares a named statement on each pooled connection the first time it runs there.
    const run = async (parameters: readonly unknown[]) => (await pool.query({ name, text: query.sql, values: [...parameters] })).rows;
    return {
      async all(parameters) {
        try {
          return await run(parameters);
        } catch (error) {
          // A connection closed while idle can be handed out in the moment before the pool
          // hears of it; these reads change nothing, so one more try on a fresh connection is safe.
          if (!isConnectionLost(error)) throw error;
          return run(parameters);
        }
      },
    };
  });
  return { db, dialect: 'postgres', close: () => db.destroy() };
}
