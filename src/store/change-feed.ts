// Change notifications between processes sharing one PostgreSQL database: a writer calls
// notifyChange() inside the transaction that makes the change (PostgreSQL delivers it at
// commit, never for a rollback); every process's ChangeFeed hears it on a connection of its
// own that LISTENs, and calls the subscribers of that topic — so what each instance caches
// (the signing keys today) is re-read at once instead of on the next periodic re-read.
//
// A notification sent while the feed is disconnected is lost, so after every (re)connect the
// feed calls every subscriber once, as if everything had changed. The periodic re-read stays
// the fallback. SQLite has no feed (one server per file); notifyChange() does nothing there.
import { sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { dialectOf, type Db } from './database.js';

/** What a notification says changed; each cached thing has its topic. */
export type ChangeTopic = 'signing_keys';

export interface ChangeFeed {
  /** Calls `listener` after every committed change of `topic` (and after every reconnect); returns the unsubscribe. */
  subscribe(topic: ChangeTopic, listener: () => void): () => void;
  close(): Promise<void>;
}

export interface ChangeFeedOptions {
  /** The database URL the pool uses: the feed must see the same search_path (schema). */
  readonly url: string;
  /** As createDatabase's `schema` option, when the schema is not in the URL. */
  readonly schema?: string;
  readonly logger: Logger;
  /** Names the feed's session in pg_stat_activity. */
  readonly applicationName?: string;
}

/**
 * One channel for every schema of the database; the payload names the schema, so two
 * installations (or test files) in one database never hear each other's changes. A channel
 * per schema would not do: channel names are cut at 63 bytes, and so are schema names.
 */
const CHANNEL = 'scope_auth_changes';
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** TCP keep-alive, so a connection whose peer vanished without a word is noticed and replaced. */
const KEEPALIVE_AFTER_MS = 10_000;

interface Payload {
  readonly schema: string | null;
  readonly topic: string;
}

/** Sends a change notification of `topic`; inside a transaction it is delivered at commit. */
export async function notifyChange(db: Db, topic: ChangeTopic): Promise<void> {
  if (dialectOf(db) !== 'postgres') return;
  await sql`select pg_notify(${CHANNEL}, json_build_object('schema', current_schema(), 'topic', ${topic}::text)::text)`.execute(db);
}

/** Starts listening in the background (reconnecting until close()); errors are logged, never thrown. */
export function openChangeFeed(options: ChangeFeedOptions): ChangeFeed {
  const { logger } = options;
  const listeners = new Map<ChangeTopic, Set<() => void>>();
  let client: pg.Client | null = null;
  let schema: string | null = null;
  let retryTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let closed = false;

  function call(listener: () => void) {
    try {
      listener();
    } catch (error) {
      logger.error({ err: error }, 'a change listener failed');
    }
  }

  function onNotification(message: pg.Notification) {
    if (message.channel !== CHANNEL || message.payload === undefined) return;
    let payload: Payload;
    try {
      payload = JSON.parse(message.payload) as Payload;
    } catch {
      return;
    }
    if (payload.schema !== schema) return;
    for (const listener of listeners.get(payload.topic as ChangeTopic) ?? []) call(listener);
  }

  function lost(lostClient: pg.Client, error: unknown) {
    if (lostClient !== client) return;
    client = null;
    lostClient.removeListener('notification', onNotification);
    lostClient.end().catch(() => undefined);
    if (closed) return;
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures);
    failures += 1;
    logger.warn({ err: error, retry_in_ms: delay }, 'change feed: lost its database connection; reconnecting (changes are re-read meanwhile every few seconds)');
    retryTimer = setTimeout(connect, delay);
    retryTimer.unref();
  }

  async function connect() {
    if (closed) return;
    const next = new pg.Client({
      connectionString: options.url,
      application_name: options.applicationName ?? 'scope-auth change feed',
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_AFTER_MS,
      ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
    });
    client = next;
    // A pg.Client emits 'error' for a connection lost while idle: without a handler, Node
    // would end the process. A lost feed only costs latency, so it is logged and replaced.
    next.on('error', (error) => lost(next, error));
    next.on('end', () => lost(next, new Error('the connection ended')));
    next.on('notification', onNotification);
    try {
      await next.connect();
      const { rows } = await next.query<{ schema: string | null }>('select current_schema() as schema');
      schema = rows[0]?.schema ?? null;
      await next.query(`listen ${CHANNEL}`);
    } catch (error) {
      lost(next, error);
      return;
    }
    if (client !== next) return;
    if (failures > 0) logger.warn('change feed: reconnected');
    failures = 0;
    // Whatever changed while no one listened: every subscriber re-reads once.
    for (const set of listeners.values()) for (const listener of set) call(listener);
  }

  void connect();

  return {
    subscribe(topic, listener) {
      let set = listeners.get(topic);
      if (set === undefined) listeners.set(topic, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      const current = client;
      client = null;
      if (current) {
        current.removeListener('notification', onNotification);
        await current.end().catch(() => undefined);
      }
    },
  };
}
