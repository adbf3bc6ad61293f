import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FLUSH_CHUNK, createLastUsedRecorder, type LastUsedRecorder } from '../../src/domain/last-used.js';
import { insertApiKey } from '../../src/store/api-keys.js';
import { insertApp } from '../../src/store/apps.js';
import type { Db, Dialect } from '../../src/store/database.js';
import { insertOrg } from '../../src/store/orgs.js';
import { DIALECTS, dialectTitle, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { appRow, keyRow, orgRow } from '../helpers/rows.js';
import { testLogger } from '../helpers/test-logger.js';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);

/** An org, an app and a key, stored; returns the key id. */
async function seedKey(db: Db): Promise<string> {
  const org = orgRow(T);
  const app = appRow(org.id, T, { scopes: ['agents:view'] });
  const key = keyRow(org.id, app.id, T);
  await insertOrg(db, org);
  await insertApp(db, app);
  await insertApiKey(db, key);
  return key.id;
}

async function usage(db: Db, keyId: string) {
  return db
    .selectFrom('api_keys')
    .select(['use_count', 'last_used_at', 'last_used_ip'])
    .where('id', '=', keyId)
    .executeTakeFirstOrThrow();
}

/** Counts UPDATE statements' row changes on api_keys with a trigger, so a test can see how many writes a flush made. */
async function countKeyUpdates(db: Db, dialect: Dialect): Promise<() => Promise<number>> {
  await sql`create table key_updates (n integer not null)`.execute(db);
  await sql`insert into key_updates (n) values (0)`.execute(db);
  if (dialect === 'sqlite') {
    await sql`create trigger count_key_updates after update on api_keys begin update key_updates set n = n + 1; end`.execute(db);
  } else {
    await sql`create function count_key_update() returns trigger language plpgsql as $$ begin update key_updates set n = n + 1; return new; end $$`.execute(
      db,
    );
    await sql`create trigger count_key_updates after update on api_keys for each row execute function count_key_update()`.execute(db);
  }
  return async () => (await sql<{ n: number }>`select n from key_updates`.execute(db)).rows[0]!.n;
}

describe.each(DIALECTS)('last-used recorder on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let database: TestDatabase;
    let db: Db;
    let recorder: LastUsedRecorder;
    let keyId: string;

    beforeEach(async () => {
      database = await openTestDatabase(dialectCase.dialect);
      db = database.handle.db;
      recorder = createLastUsedRecorder(db, testLogger(), 1000);
      keyId = await seedKey(db);
    });
    afterEach(async () => {
      await recorder.stop();
      await database.close();
    });

    it('writes many uses of one key as a single row update with the count and the latest time and ip', async () => {
      const updates = await countKeyUpdates(db, dialectCase.dialect);
      // Out of order, as concurrent requests may finish: the latest time wins, not the last call.
      const offsets = [5, 1, 9, 3, 7, 2, 8, 4, 6, 0];
      for (const offset of offsets) recorder.record(keyId, T + offset * 1000, `10.0.0.${offset}`);

      expect(await usage(db, keyId)).toEqual({ use_count: 0, last_used_at: null, last_used_ip: null });
      await recorder.flush();
      expect(await usage(db, keyId)).toEqual({ use_count: 10, last_used_at: T + 9000, last_used_ip: '10.0.0.9' });
      expect(await updates()).toBe(1);

      // Nothing pending: another flush writes nothing.
      await recorder.flush();
      expect(await updates()).toBe(1);
    });

    it('adds to the stored count on every flush', async () => {
      recorder.record(keyId, T + 1000, '10.0.0.1');
      await recorder.flush();
      recorder.record(keyId, T + 2000, '10.0.0.2');
      recorder.record(keyId, T + 3000, null);
      await recorder.flush();
      expect(await usage(db, keyId)).toEqual({ use_count: 3, last_used_at: T + 3000, last_used_ip: null });
    });

    it('keeps the figures of several keys apart', async () => {
      const otherKeyId = await seedKey(db);
      recorder.record(keyId, T + 1000, '10.0.0.1');
      recorder.record(otherKeyId, T + 5000, '10.0.0.5');
      recorder.record(keyId, T + 2000, '10.0.0.2');
      await recorder.flush();
      expect(await usage(db, keyId)).toEqual({ use_count: 2, last_used_at: T + 2000, last_used_ip: '10.0.0.2' });
      expect(await usage(db, otherKeyId)).toEqual({ use_count: 1, last_used_at: T + 5000, last_used_ip: '10.0.0.5' });
    });

    it('writes what is pending when stopped', async () => {
      recorder.start();
      recorder.record(keyId, T + 1000, '10.0.0.1');
      recorder.record(keyId, T + 2000, '10.0.0.2');
      await recorder.stop();
      expect(await usage(db, keyId)).toEqual({ use_count: 2, last_used_at: T + 2000, last_used_ip: '10.0.0.2' });
    });

    it('does not overwrite a later use another process already stored', async () => {
      await db.updateTable('api_keys').set({ last_used_at: T + 60_000, last_used_ip: '192.0.2.1', use_count: 5 }).where('id', '=', keyId).execute();
      recorder.record(keyId, T + 1000, '10.0.0.1');
      await recorder.flush();
      // The count still grows: the use happened, only the "last" figures stay.
      expect(await usage(db, keyId)).toEqual({ use_count: 6, last_used_at: T + 60_000, last_used_ip: '192.0.2.1' });

      recorder.record(keyId, T + 120_000, '10.0.0.2');
      await recorder.flush();
      expect(await usage(db, keyId)).toEqual({ use_count: 7, last_used_at: T + 120_000, last_used_ip: '10.0.0.2' });
    });

    it('loses no use recorded while a flush is writing', async () => {
      recorder.record(keyId, T, '10.0.0.0');
      let recorded = 1;
      let done = false;
      const flushing = recorder.flush().then(() => {
        done = true;
      });
      // Record on every turn of the event loop until the write has finished.
      while (!done) {
        recorder.record(keyId, T + recorded * 1000, `10.0.1.${recorded % 256}`);
        recorded++;
        await (recorded % 2 === 0 ? Promise.resolve() : new Promise((resolve) => setImmediate(resolve)));
      }
      await flushing;
      const afterFirst = await usage(db, keyId);
      // Some uses arrived after the batch was taken; they must be pending, not dropped.
      expect(afterFirst.use_count).toBeGreaterThan(0);
      expect(afterFirst.use_count).toBeLessThan(recorded);

      await recorder.flush();
      expect(await usage(db, keyId)).toEqual({
        use_count: recorded,
        last_used_at: T + (recorded - 1) * 1000,
        last_used_ip: `10.0.1.${(recorded - 1) % 256}`,
      });
    });

    it('lets other work run while it writes a large batch, and writes all of it', async () => {
      const keyIds = [keyId];
      for (let i = 1; i < FLUSH_CHUNK * 2 + 1; i++) keyIds.push(await seedKey(db));
      for (const [i, id] of keyIds.entries()) recorder.record(id, T + i, '10.0.0.1');
      let otherWorkRan = false;
      const flushing = recorder.flush();
      setImmediate(() => (otherWorkRan = true));
      await flushing;
      // On SQLite each write blocks the event loop; one transaction for the whole batch would
      // have kept everything else waiting until the end.
      expect(otherWorkRan).toBe(true);
      const written = await db.selectFrom('api_keys').select('id').where('use_count', '=', 1).execute();
      expect(written.map((row) => row.id).sort()).toEqual([...keyIds].sort());
    });

    it('keeps figures it could not write and writes them on the next flush', async () => {
      recorder.record(keyId, T + 1000, '10.0.0.1');
      // The database refuses the write (here: the table is briefly gone).
      await sql`alter table api_keys rename to api_keys_away`.execute(db);
      await recorder.flush();
      await sql`alter table api_keys_away rename to api_keys`.execute(db);

      recorder.record(keyId, T + 2000, '10.0.0.2');
      await recorder.flush();
      expect(await usage(db, keyId)).toEqual({ use_count: 2, last_used_at: T + 2000, last_used_ip: '10.0.0.2' });
    });
  });
});
