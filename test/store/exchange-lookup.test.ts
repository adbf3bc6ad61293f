import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findKeyForExchange, selectKeyForExchange, type ExchangeKeyRow } from '../../src/store/api-keys.js';
import { PreparingDb } from '../../src/store/database.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('the prepared exchange lookup on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    it('runs prepared on the database createDatabase opened', () => {
      expect(ctx.db).toBeInstanceOf(PreparingDb);
    });

    it('returns the same row as the kysely query, for a plain key', async () => {
      const client = await ctx.createClient(['agents:edit', 'tools:deploy']);
      const prepared = await findKeyForExchange(ctx.db, client.keyId);
      expect(prepared).toEqual(await selectKeyForExchange(ctx.db, client.keyId));
      expect(prepared).toEqual({
        id: client.keyId,
        org_id: client.orgId,
        app_id: client.appId,
        secret_hash: expect.stringMatching(/^\$argon2id\$/),
        expires_at: null,
        revoked_at: null,
        key_scopes: null,
        key_allowed_ips: null,
        app_scopes: JSON.stringify(['agents:edit', 'tools:deploy']),
        app_allowed_ips: null,
        app_audience: null,
        app_token_ttl_seconds: null,
        app_deleted_at: null,
        org_allowed_scopes: null,
        org_disabled_at: null,
      });
    });

    it('returns the same row as the kysely query when every optional field is set, numbers as numbers', async () => {
      const now = ctx.clock.now();
      const { org } = await ctx.createOrg('every field set');
      const app = await ctx.createApp(org.id, ['runtime:run'], { audience: 'https://api.example.com', token_ttl_seconds: 120 });
      const { key } = await ctx.createKey(org.id, app.id, { expiresAt: now + 86_400_000 });
      await ctx.db
        .updateTable('api_keys')
        .set({ revoked_at: now + 1, revoked_by: 'system', scopes: '["runtime:run"]', allowed_ips: '["10.0.0.0/8"]' })
        .where('id', '=', key.id)
        .execute();
      await ctx.db.updateTable('apps').set({ deleted_at: now + 2, allowed_ips: '["10.0.0.0/8","2001:db8::/32"]' }).where('id', '=', app.id).execute();
      await ctx.db.updateTable('orgs').set({ allowed_scopes: '["runtime:run"]', disabled_at: now + 3 }).where('id', '=', org.id).execute();

      const prepared = await findKeyForExchange(ctx.db, key.id);
      expect(prepared).toEqual(await selectKeyForExchange(ctx.db, key.id));
      expect(prepared).toMatchObject({
        expires_at: now + 86_400_000,
        revoked_at: now + 1,
        key_scopes: '["runtime:run"]',
        key_allowed_ips: '["10.0.0.0/8"]',
        app_allowed_ips: '["10.0.0.0/8","2001:db8::/32"]',
        app_audience: 'https://api.example.com',
        app_token_ttl_seconds: 120,
        app_deleted_at: now + 2,
        org_allowed_scopes: '["runtime:run"]',
        org_disabled_at: now + 3,
      });
    });

    it('finds nothing for an unknown key id, like the kysely query', async () => {
      const unknown = 'key_01JZZZZZZZZZZZZZZZZZZZZZZZ';
      expect(await findKeyForExchange(ctx.db, unknown)).toBeUndefined();
      expect(await selectKeyForExchange(ctx.db, unknown)).toBeUndefined();
    });

    it('sees a change committed after it first ran', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      expect((await findKeyForExchange(ctx.db, client.keyId))?.revoked_at).toBeNull();
      await ctx.db.updateTable('api_keys').set({ revoked_at: 42, revoked_by: 'system' }).where('id', '=', client.keyId).execute();
      expect((await findKeyForExchange(ctx.db, client.keyId))?.revoked_at).toBe(42);
    });

    it("never reads another transaction's uncommitted change", async () => {
      const client = await ctx.createClient(['tools:deploy']);
      let pending: Promise<ExchangeKeyRow | undefined> | undefined;
      await expect(
        ctx.db.transaction().execute(async (trx) => {
          await trx.updateTable('api_keys').set({ revoked_at: 42, revoked_by: 'system' }).where('id', '=', client.keyId).execute();
          pending = findKeyForExchange(ctx.db, client.keyId);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect((await pending)?.revoked_at).toBeNull();
    });

    it('answers the lookups of one turn of the event loop with one read, each with its own row', async () => {
      const [a, b] = [await ctx.createClient(['tools:deploy']), await ctx.createClient(['agents:edit'])];
      const unknown = 'key_01JZZZZZZZZZZZZZZZZZZZZZZZ';
      const prepared = vi.spyOn(ctx.db as PreparingDb, 'prepared');
      try {
        const rows = await Promise.all([a.keyId, b.keyId, unknown, a.keyId].map((id) => findKeyForExchange(ctx.db, id)));
        expect(rows.map((row) => row?.id)).toEqual([a.keyId, b.keyId, undefined, a.keyId]);
        expect(rows[1]).toEqual(await selectKeyForExchange(ctx.db, b.keyId));
        // One statement for the three distinct ids, none per lookup.
        expect(prepared.mock.calls.map(([name]) => name)).toEqual(['scope_auth_find_keys_for_exchange_3']);
      } finally {
        prepared.mockRestore();
      }
    });

    it('splits a large batch into reads of at most 32 ids and still answers every lookup', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const unknowns = Array.from({ length: 40 }, (_, i) => `key_01JZZZZZZZZZZZZZZZZZZZ${String(i).padStart(3, '0')}`);
      const ids = [...unknowns.slice(0, 20), client.keyId, ...unknowns.slice(20)];
      const prepared = vi.spyOn(ctx.db as PreparingDb, 'prepared');
      try {
        const rows = await Promise.all(ids.map((id) => findKeyForExchange(ctx.db, id)));
        expect(rows.filter((row) => row !== undefined).map((row) => row!.id)).toEqual([client.keyId]);
        expect(rows[20]?.id).toBe(client.keyId);
        expect(prepared.mock.calls.map(([name]) => name)).toEqual(['scope_auth_find_keys_for_exchange_32', 'scope_auth_find_keys_for_exchange_9']);
      } finally {
        prepared.mockRestore();
      }
    });

    it('rejects every lookup of a failed read, and reads the next turn afresh', async () => {
      const db = ctx.db as PreparingDb;
      let fail = true;
      const reader = db.batched<{ id: string }>('scope_auth_test_batch_failure', (count) =>
        CompiledQuery.raw(`select id from ${fail ? 'no_such_table' : 'api_keys'} where id in (${Array.from({ length: count }, (_, i) => (dialectCase.dialect === 'postgres' ? `$${i + 1}` : '?')).join(', ')})`),
      );
      const failed = await Promise.allSettled([reader.get('key_a'), reader.get('key_b')]);
      expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
      fail = false;
      const client = await ctx.createClient(['tools:deploy']);
      // Three ids: a statement not prepared (and not failed) before.
      expect((await Promise.all([reader.get(client.keyId), reader.get('key_a'), reader.get('key_c')])).map((row) => row?.id)).toEqual([client.keyId, undefined, undefined]);
    });

    it('reads inside a transaction through that transaction', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const inside = await ctx.db
        .transaction()
        .execute(async (trx) => {
          await trx.updateTable('api_keys').set({ revoked_at: 42, revoked_by: 'system' }).where('id', '=', client.keyId).execute();
          return findKeyForExchange(trx, client.keyId);
        });
      expect(inside?.revoked_at).toBe(42);
    });
  });
});
