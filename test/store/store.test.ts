import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { migrations } from '../../db/migrations/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/domain/credentials.js';
import { findKeyForExchange, insertApiKey, type ApiKeyRow } from '../../src/store/api-keys.js';
import { recordLastUsed } from '../../src/store/last-used.js';
import { insertApp, getApp, type AppRecord } from '../../src/store/apps.js';
import { insertAuditEvent, listAuditEvents } from '../../src/store/audit-events.js';
import { createDatabase, migrateToLatest, type DatabaseHandle, type Db, type Dialect } from '../../src/store/database.js';
import { anyOrgExists, getOrg, insertOrg, type OrgRow } from '../../src/store/orgs.js';
import { DIALECTS, dialectTitle, openTestDatabase, PG_URL, type TestDatabase } from '../helpers/db.js';
import { appRow, keyRow, orgRow } from '../helpers/rows.js';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const TABLES = ['api_keys', 'apps', 'audit_events', 'leases', 'orgs', 'recovery_codes', 'sessions', 'signing_keys', 'throttle_counters', 'user_links', 'users', 'webhook_deliveries', 'webhooks'];

/** A database with no tables at all, to watch the migrations build it. */
async function openEmptyDatabase(dialect: Dialect): Promise<{ handle: DatabaseHandle; schema?: string; close(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'scope-auth-empty-'));
    const handle = await createDatabase(`sqlite:${join(dir, 'empty.sqlite')}`);
    return {
      handle,
      async close() {
        await handle.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const handle = await createDatabase(PG_URL!, { schema });
  return {
    handle,
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

async function tableNames(db: Db, schema: string | undefined): Promise<string[]> {
  const tables = await db.introspection.getTables();
  return tables
    .filter((t) => !t.isView && (schema === undefined || t.schema === schema))
    .map((t) => t.name)
    .sort();
}

const org = (overrides: Partial<OrgRow> = {}) => orgRow(T, overrides);
const app = (orgId: string, overrides: Partial<AppRecord> = {}) =>
  appRow(orgId, T, { name: 'billing', description: 'Billing service', scopes: ['agents:edit', 'runtime:run'], ...overrides });
const apiKey = (orgId: string, appId: string, overrides: Partial<ApiKeyRow> = {}) => keyRow(orgId, appId, T, { name: 'ci', ...overrides });

describe.each(DIALECTS)('store on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let database: TestDatabase;
    let db: Db;
    beforeAll(async () => {
      database = await openTestDatabase(dialectCase.dialect);
      db = database.handle.db;
    });
    afterAll(async () => database?.close());

    describe('migrations', () => {
      it('build every table on an empty database and change nothing when run again', async () => {
        const empty = await openEmptyDatabase(dialectCase.dialect);
        try {
          expect(await tableNames(empty.handle.db, empty.schema)).toEqual([]);
          await migrateToLatest(empty.handle.db);
          expect(await tableNames(empty.handle.db, empty.schema)).toEqual(TABLES);
          await insertOrg(empty.handle.db, org());

          await migrateToLatest(empty.handle.db);
          expect(await tableNames(empty.handle.db, empty.schema)).toEqual(TABLES);
          expect(await anyOrgExists(empty.handle.db)).toBe(true);
          const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(empty.handle.db);
          expect(applied.rows.map((r) => r.name)).toEqual(['0001-initial', '0002-audit-filters', '0003-throttle-counters', '0004-org-tenancy', '0005-people', '0006-policies', '0007-admin-apps-webhooks']);
        } finally {
          await empty.close();
        }
      });
    });

    describe('orgs', () => {
      it('allow only one root org', async () => {
        const root = org({ is_root: 1, name: 'default' });
        await insertOrg(db, root);
        await expect(insertOrg(db, org({ is_root: 1, name: 'second root' }))).rejects.toThrow();
        await insertOrg(db, org({ is_root: 0 }));
        await insertOrg(db, org({ is_root: 0 }));
        const roots = await db.selectFrom('orgs').select('id').where('is_root', '=', 1).execute();
        expect(roots).toEqual([{ id: root.id }]);
        expect(await getOrg(db, root.id)).toEqual(root);
      });
    });

    describe('apps', () => {
      let orgId: string;
      let otherOrgId: string;
      beforeAll(async () => {
        orgId = newId('org', T);
        otherOrgId = newId('org', T);
        await insertOrg(db, org({ id: orgId }));
        await insertOrg(db, org({ id: otherOrgId, name: 'globex' }));
      });

      it('round-trip with their scopes as a list and their times as numbers', async () => {
        const record = app(orgId, { audience: 'https://api.example.com', token_ttl_seconds: 120 });
        await insertApp(db, record);
        const read = await getApp(db, orgId, record.id);
        expect(read).toEqual(record);
        expect(read!.scopes).toEqual(['agents:edit', 'runtime:run']);
      });

      it('are not found once soft-deleted', async () => {
        const record = app(orgId, { deleted_at: T + 1 });
        await insertApp(db, record);
        expect(await getApp(db, orgId, record.id)).toBeUndefined();
      });

      it('are not found through another org', async () => {
        const record = app(orgId);
        await insertApp(db, record);
        expect(await getApp(db, otherOrgId, record.id)).toBeUndefined();
        expect(await getApp(db, orgId, record.id)).toBeDefined();
      });

      it('must belong to an existing org', async () => {
        await expect(insertApp(db, app(newId('org', T)))).rejects.toThrow();
      });
    });

    describe('api keys', () => {
      let orgId: string;
      let liveApp: AppRecord;
      beforeAll(async () => {
        orgId = newId('org', T);
        await insertOrg(db, org({ id: orgId }));
        liveApp = app(orgId, { audience: 'https://api.example.com', token_ttl_seconds: 300 });
        await insertApp(db, liveApp);
      });

      it('are found for an exchange together with their app', async () => {
        const key = apiKey(orgId, liveApp.id, { expires_at: T + 86_400_000 });
        await insertApiKey(db, key);
        expect(await findKeyForExchange(db, key.id)).toEqual({
          id: key.id,
          org_id: orgId,
          app_id: liveApp.id,
          secret_hash: key.secret_hash,
          expires_at: T + 86_400_000,
          revoked_at: null,
          key_scopes: null,
          key_allowed_ips: null,
          app_scopes: JSON.stringify(liveApp.scopes),
          app_allowed_ips: null,
          app_audience: 'https://api.example.com',
          app_token_ttl_seconds: 300,
          app_deleted_at: null,
          org_allowed_scopes: null,
          org_disabled_at: null,
        });
      });

      it('of a soft-deleted app are still found for an exchange, with the deletion time to refuse it', async () => {
        const deletedApp = app(orgId, { deleted_at: T + 5 });
        await insertApp(db, deletedApp);
        const key = apiKey(orgId, deletedApp.id, { revoked_at: T + 3 });
        await insertApiKey(db, key);
        expect(await findKeyForExchange(db, key.id)).toMatchObject({ app_deleted_at: T + 5, revoked_at: T + 3, app_audience: null });
      });

      it('that do not exist are not found', async () => {
        expect(await findKeyForExchange(db, newId('key', T))).toBeUndefined();
      });

      it('must belong to an existing app', async () => {
        await expect(insertApiKey(db, apiKey(orgId, newId('app', T)))).rejects.toThrow();
      });

      it('count their uses and keep the later last-used time', async () => {
        const key = apiKey(orgId, liveApp.id);
        await insertApiKey(db, key);
        const read = () =>
          db.selectFrom('api_keys').select(['use_count', 'last_used_at', 'last_used_ip']).where('id', '=', key.id).executeTakeFirstOrThrow();

        await recordLastUsed(db, [{ keyId: key.id, at: T + 10_000, ip: '10.0.0.1', count: 3 }]);
        expect(await read()).toEqual({ use_count: 3, last_used_at: T + 10_000, last_used_ip: '10.0.0.1' });

        await recordLastUsed(db, [{ keyId: key.id, at: T + 5_000, ip: '10.0.0.2', count: 2 }]);
        expect(await read()).toEqual({ use_count: 5, last_used_at: T + 10_000, last_used_ip: '10.0.0.1' });

        await recordLastUsed(db, [{ keyId: key.id, at: T + 20_000, ip: null, count: 1 }]);
        expect(await read()).toEqual({ use_count: 6, last_used_at: T + 20_000, last_used_ip: null });
      });

      it('record uses in a batch that names a key deleted meanwhile', async () => {
        const key = apiKey(orgId, liveApp.id);
        await insertApiKey(db, key);
        await recordLastUsed(db, [
          { keyId: newId('key', T), at: T, ip: '10.0.0.1', count: 1 },
          { keyId: key.id, at: T, ip: '10.0.0.1', count: 1 },
        ]);
        const row = await db.selectFrom('api_keys').select('use_count').where('id', '=', key.id).executeTakeFirstOrThrow();
        expect(row.use_count).toBe(1);
      });

      it.runIf(dialectCase.dialect === 'postgres')('record uses without deadlocking another process flushing the same keys', async () => {
        const [first, second] = [apiKey(orgId, liveApp.id), apiKey(orgId, liveApp.id)].sort((a, b) => a.id.localeCompare(b.id));
        await insertApiKey(db, first!);
        await insertApiKey(db, second!);
        const other = await createDatabase(database.url, { schema: database.schema! });
        try {
          // Another process's flush holds the first key's row and is about to take the second.
          let release!: () => void;
          const gate = new Promise<void>((resolve) => {
            release = resolve;
          });
          let otherPid: number | undefined;
          let holdsFirst!: () => void;
          const holding = new Promise<void>((resolve) => {
            holdsFirst = resolve;
          });
          const otherFlush = other.db.transaction().execute(async (trx) => {
            otherPid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid;
            await trx.updateTable('api_keys').set({ use_count: sql`use_count + 1` }).where('id', '=', first!.id).execute();
            holdsFirst();
            await gate;
            await trx.updateTable('api_keys').set({ use_count: sql`use_count + 1` }).where('id', '=', second!.id).execute();
          });
          await Promise.race([holding, otherFlush]);

          // This process's batch names the keys in the other order (the order requests came in).
          const ours = recordLastUsed(db, [
            { keyId: second!.id, at: T, ip: null, count: 1 },
            { keyId: first!.id, at: T, ip: null, count: 1 },
          ]);
          const blocked = async () =>
            (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where ${otherPid}::int = any(pg_blocking_pids(pid))`.execute(db))
              .rows[0]!.n > 0;
          try {
            for (let i = 0; i < 500 && !(await blocked()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
            expect(await blocked()).toBe(true);
          } finally {
            // Never leave the other transaction open: it would hang the pool's shutdown.
            release();
          }

          await expect(Promise.all([otherFlush, ours])).resolves.toBeDefined();
          const counts = await db.selectFrom('api_keys').select(['id', 'use_count']).where('id', 'in', [first!.id, second!.id]).orderBy('id').execute();
          expect(counts).toEqual([
            { id: first!.id, use_count: 2 },
            { id: second!.id, use_count: 2 },
          ]);
        } finally {
          await other.close();
        }
      });

      it('come back with every time and count as a JS number', async () => {
        const key = apiKey(orgId, liveApp.id, { expires_at: T + 1, revoked_at: T + 2, last_used_at: T + 3, use_count: 2 ** 40 });
        await insertApiKey(db, key);
        const row = await db.selectFrom('api_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
        for (const column of ['created_at', 'expires_at', 'revoked_at', 'last_used_at', 'use_count'] as const) {
          expect(typeof row[column], column).toBe('number');
        }
        expect(row).toEqual(key);
      });

      it('are deleted with their app when the app row is removed', async () => {
        const doomed = app(orgId);
        await insertApp(db, doomed);
        const key = apiKey(orgId, doomed.id);
        await insertApiKey(db, key);
        await db.deleteFrom('apps').where('id', '=', doomed.id).execute();
        expect(await findKeyForExchange(db, key.id)).toBeUndefined();
      });
    });

    describe('audit events', () => {
      it('outlive the app, key and org they name', async () => {
        const orgId = newId('org', T);
        await insertOrg(db, org({ id: orgId }));
        const doomed = app(orgId);
        await insertApp(db, doomed);
        const key = apiKey(orgId, doomed.id);
        await insertApiKey(db, key);
        const event = {
          id: newId('event', T),
          org_id: orgId,
          at: T,
          actor: key.id,
          action: 'app.deleted',
          target_type: 'app',
          target_id: doomed.id,
          ip: '10.0.0.1',
          details: '{"name":"billing"}',
        };
        await insertAuditEvent(db, event);

        await db.deleteFrom('apps').where('id', '=', doomed.id).execute();
        await db.deleteFrom('orgs').where('id', '=', orgId).execute();
        expect(await getOrg(db, orgId)).toBeUndefined();
        expect(await listAuditEvents(db, orgId, { limit: 10, before: null })).toEqual([event]);
      });

      it('list newest first, only for their org', async () => {
        const orgId = newId('org', T);
        const ids = [T, T + 1000, T + 2000].map((at) => newId('event', at));
        for (const [i, id] of ids.entries()) {
          await insertAuditEvent(db, { id, org_id: orgId, at: T + i * 1000, actor: 'cli', action: 'key.created', target_type: null, target_id: null, ip: null, details: '{}' });
        }
        await insertAuditEvent(db, { id: newId('event', T), org_id: newId('org', T), at: T, actor: 'cli', action: 'x', target_type: null, target_id: null, ip: null, details: '{}' });
        expect((await listAuditEvents(db, orgId, { limit: 10, before: null })).map((e) => e.id)).toEqual([...ids].reverse());
        expect((await listAuditEvents(db, orgId, { limit: 2, before: null })).map((e) => e.id)).toEqual([ids[2], ids[1]]);
      });
    });

    it.runIf(dialectCase.dialect === 'sqlite')('runs SQLite in WAL mode with foreign keys on', async () => {
      const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
      expect(journal.rows).toEqual([{ journal_mode: 'wal' }]);
      const foreignKeys = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
      expect(foreignKeys.rows).toEqual([{ foreign_keys: 1 }]);
    });
  });
});
