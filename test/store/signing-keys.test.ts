import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/database.js';
import { insertMissingSigningKeys, listSigningKeys, rotateSigningKeys, type NewSigningKey } from '../../src/store/signing-keys.js';
import { DIALECTS, dialectTitle, openTestDatabase, type TestDatabase } from '../helpers/db.js';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);

function newKey(name: string, createdAt = T): NewSigningKey {
  return { kid: `${name}-${randomBytes(4).toString('hex')}`, alg: 'ES256', public_jwk: '{"kty":"EC"}', private_jwk_enc: 'v1.a.b.c', created_at: createdAt };
}

describe.each(DIALECTS)('signing keys store on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let database: TestDatabase;
    let db: Db;
    beforeAll(async () => {
      database = await openTestDatabase(dialectCase.dialect);
      db = database.handle.db;
    });
    afterAll(async () => database?.close());
    beforeEach(async () => {
      await db.deleteFrom('signing_keys').execute();
    });

    const summary = async () => (await listSigningKeys(db)).map((k) => [k.kid, k.generation, k.activates_at, k.retires_at]);

    it('creates the first key and a standby on an empty table, and nothing more once they exist', async () => {
      const first = newKey('first');
      const standby = newKey('standby');
      expect(await insertMissingSigningKeys(db, { first, standby, now: T })).toBe(true);
      expect(await summary()).toEqual([
        [first.kid, 1, T, null],
        [standby.kid, 2, null, null],
      ]);
      expect(await insertMissingSigningKeys(db, { first: newKey('late'), standby: newKey('late'), now: T + 1 })).toBe(false);
      expect(await summary()).toHaveLength(2);
    });

    it('adds only a standby to a table that has a signing key and none', async () => {
      const first = newKey('first');
      await insertMissingSigningKeys(db, { first, standby: newKey('standby'), now: T });
      await db.deleteFrom('signing_keys').where('generation', '=', 2).execute();
      const standby = newKey('standby');
      expect(await insertMissingSigningKeys(db, { first: null, standby, now: T })).toBe(true);
      expect(await summary()).toEqual([
        [first.kid, 1, T, null],
        [standby.kid, 2, null, null],
      ]);
    });

    it('activates the standby, retires every older key then, keeps an earlier retirement, and adds the next standby', async () => {
      const first = newKey('first');
      const standby = newKey('standby');
      await insertMissingSigningKeys(db, { first, standby, now: T });
      const second = newKey('second');
      expect(await rotateSigningKeys(db, { standbyKid: standby.kid, activatesAt: T + 300_000, replacement: null, nextStandby: second })).toBe(true);
      expect(await summary()).toEqual([
        [first.kid, 1, T, T + 300_000],
        [standby.kid, 2, T + 300_000, null],
        [second.kid, 3, null, null],
      ]);
      const third = newKey('third');
      expect(await rotateSigningKeys(db, { standbyKid: second.kid, activatesAt: T + 600_000, replacement: null, nextStandby: third })).toBe(true);
      expect(await summary()).toEqual([
        [first.kid, 1, T, T + 300_000],
        [standby.kid, 2, T + 300_000, T + 600_000],
        [second.kid, 3, T + 600_000, null],
        [third.kid, 4, null, null],
      ]);
    });

    it('replaces the standby by deleting it and activating a fresh key', async () => {
      const first = newKey('first');
      const standby = newKey('standby');
      await insertMissingSigningKeys(db, { first, standby, now: T });
      const fresh = newKey('fresh');
      const next = newKey('next');
      expect(await rotateSigningKeys(db, { standbyKid: standby.kid, activatesAt: T + 1, replacement: fresh, nextStandby: next })).toBe(true);
      expect(await summary()).toEqual([
        [first.kid, 1, T, T + 1],
        [fresh.kid, 3, T + 1, null],
        [next.kid, 4, null, null],
      ]);
    });

    it('changes nothing when the standby is no longer the one the caller read', async () => {
      const standby = newKey('standby');
      await insertMissingSigningKeys(db, { first: newKey('first'), standby, now: T });
      await rotateSigningKeys(db, { standbyKid: standby.kid, activatesAt: T + 1, replacement: null, nextStandby: newKey('next') });
      const before = await summary();
      for (const replacement of [null, newKey('fresh')]) {
        expect(await rotateSigningKeys(db, { standbyKid: standby.kid, activatesAt: T + 2, replacement, nextStandby: newKey('late') })).toBe(false);
      }
      expect(await summary()).toEqual(before);
    });

    it('stores times as numbers', async () => {
      await insertMissingSigningKeys(db, { first: newKey('first'), standby: newKey('standby'), now: T });
      const [first] = await listSigningKeys(db);
      for (const column of ['generation', 'created_at', 'activates_at'] as const) expect(typeof first![column]).toBe('number');
    });
  });
});
