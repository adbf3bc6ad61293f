import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
        app_scopes: JSON.stringify(['agents:edit', 'tools:deploy']),
        app_audience: null,
        app_token_ttl_seconds: null,
        app_deleted_at: null,
      });
    });

    it('returns the same row as the kysely query when every optional field is set, numbers as numbers', async () => {
      const now = ctx.clock.now();
      const app = await ctx.createApp(ctx.root.org.id, ['runtime:run'], { audience: 'https://api.example.com', token_ttl_seconds: 120 });
      const { key } = await ctx.createKey(ctx.root.org.id, app.id, { expiresAt: now + 86_400_000 });
      await ctx.db.updateTable('api_keys').set({ revoked_at: now + 1, revoked_by: 'system' }).where('id', '=', key.id).execute();
      await ctx.db.updateTable('apps').set({ deleted_at: now + 2 }).where('id', '=', app.id).execute();

      const prepared = await findKeyForExchange(ctx.db, key.id);
      expect(prepared).toEqual(await selectKeyForExchange(ctx.db, key.id));
      expect(prepared).toMatchObject({
        expires_at: now + 86_400_000,
        revoked_at: now + 1,
        app_audience: 'https://api.example.com',
        app_token_ttl_seconds: 120,
        app_deleted_at: now + 2,
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
