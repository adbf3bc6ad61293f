import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { notifyChange, openChangeFeed, type ChangeFeed } from '../../src/store/change-feed.js';
import { openTestDatabase, PG_URL, type TestDatabase } from '../helpers/db.js';
import { within } from '../helpers/wait.js';
import { testLogger } from '../helpers/test-logger.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('notifyChange on SQLite', () => {
  it('does nothing: there is no feed', async () => {
    const database = await openTestDatabase('sqlite');
    try {
      await expect(database.handle.db.transaction().execute((trx) => notifyChange(trx, 'signing_keys'))).resolves.toBeUndefined();
    } finally {
      await database.close();
    }
  });
});

describe.skipIf(!PG_URL)(`the change feed on PostgreSQL${PG_URL ? '' : ' (skipped: set SCOPE_AUTH_TEST_DATABASE_URL)'}`, () => {
  const databases: TestDatabase[] = [];
  const feeds: ChangeFeed[] = [];
  let database: TestDatabase;
  beforeEach(async () => {
    database = await openTestDatabase('postgres');
    databases.push(database);
  });
  afterEach(async () => {
    for (const feed of feeds.splice(0)) await feed.close();
    for (const opened of databases.splice(0)) await opened.close();
  });

  /** A feed on `target`'s schema counting the calls of its `signing_keys` subscriber; resolves once it listens. */
  async function countingFeed(target: TestDatabase, options: { applicationName?: string; logger?: Logger } = {}) {
    const feed = openChangeFeed({ url: target.url, schema: target.schema!, logger: options.logger ?? testLogger(), ...options });
    feeds.push(feed);
    const counter = { calls: 0 };
    feed.subscribe('signing_keys', () => (counter.calls += 1));
    // Every (re)connect calls the subscribers once.
    await within(5000, () => counter.calls === 1);
    return counter;
  }

  it('calls the subscribers when a transaction that notified commits, and not before or for a rollback', async () => {
    const counter = await countingFeed(database);
    const db = database.handle.db;
    await db.transaction().execute(async (trx) => {
      await notifyChange(trx, 'signing_keys');
      await pause(200);
      expect(counter.calls).toBe(1);
    });
    await within(2000, () => counter.calls === 2);

    await expect(
      db.transaction().execute(async (trx) => {
        await notifyChange(trx, 'signing_keys');
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    // A later notification arrives; the rolled-back one never did.
    await notifyChange(db, 'signing_keys');
    await within(2000, () => counter.calls === 3);
    await pause(200);
    expect(counter.calls).toBe(3);
  });

  it('does not hear the notifications of another schema of the database', async () => {
    const other = await openTestDatabase('postgres');
    databases.push(other);
    const mine = await countingFeed(database);
    const theirs = await countingFeed(other);
    await notifyChange(other.handle.db, 'signing_keys');
    await within(2000, () => theirs.calls === 2);
    // Notifications are delivered in commit order: had the other schema's reached this feed, it would be here first.
    await notifyChange(database.handle.db, 'signing_keys');
    await within(2000, () => mine.calls === 2);
    await pause(200);
    expect([mine.calls, theirs.calls]).toEqual([2, 2]);
  });

  it('reconnects after its connection is terminated, calls the subscribers once, and hears later changes', async () => {
    const applicationName = `scope-auth feed test ${randomBytes(4).toString('hex')}`;
    const counter = await countingFeed(database, { applicationName });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const backendOf = async () =>
        (await admin.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [applicationName])).rows.map((r) => r.pid);
      const [pid] = await backendOf();
      expect(pid).toEqual(expect.any(Number));
      await admin.query('select pg_terminate_backend($1)', [pid]);

      await within(5000, () => counter.calls === 2);
      const [next] = await backendOf();
      expect(next).toEqual(expect.any(Number));
      expect(next).not.toBe(pid);
      await notifyChange(database.handle.db, 'signing_keys');
      await within(2000, () => counter.calls === 3);
    } finally {
      await admin.end();
    }
  });

  it('keeps retrying with a warning while the database cannot be reached, and stops on close', async () => {
    const warnings: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        const line = JSON.parse(String(chunk)) as { level: number; msg: string };
        if (line.level === 40) warnings.push(line.msg);
        done();
      },
    });
    const unreachable = new URL(PG_URL!);
    unreachable.port = '1';
    const feed = openChangeFeed({ url: unreachable.toString(), logger: pino({ level: 'warn' }, sink) });
    feeds.push(feed);
    await within(5000, () => warnings.length >= 3);
    expect(warnings[0]).toMatch(/^change feed: lost its database connection; reconnecting/);
    await feed.close();
    const count = warnings.length;
    await pause(500);
    expect(warnings.length).toBe(count);
  });
});
