// A test app built exactly as the server builds it (createServices + createApp), on a
// fresh database of the given dialect, with a test clock and cheap argon2 parameters.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { createApp, type App, type AppDeps } from '../../src/app.js';
import { loadConfig, type EnvName } from '../../src/config.js';
import { createArgon2Hasher, type SecretHasher } from '../../src/domain/hashing.js';
import { prepareKey } from '../../src/domain/keys.js';
import { bootstrapRootOrg, createOrgWithAdmin, type CreatedOrg } from '../../src/domain/orgs.js';
import { createServices } from '../../src/services.js';
import { insertApiKey, type ApiKeyRow } from '../../src/store/api-keys.js';
import { insertApp, type AppRecord } from '../../src/store/apps.js';
import { migrateToLatest, type Db, type Dialect } from '../../src/store/database.js';
import { createTestClock, type TestClock } from './clock.js';
import { openTestDatabase, type TestDatabase } from './db.js';
import { catalogFile } from './catalog.js';
import { appRow, seedClient } from './rows.js';
import type { CatalogInput } from '../../src/domain/scopes.js';
import { testLogger } from './test-logger.js';

export type TestEnv = Partial<Record<EnvName, string>>;

/** Cheap argon2 so tests stay fast; everything else at its default unless overridden. */
export const TEST_ENV: TestEnv = {
  SCOPE_AUTH_ARGON2_MEMORY_KIB: '1024',
  SCOPE_AUTH_ARGON2_TIME_COST: '1',
  SCOPE_AUTH_LOG_LEVEL: 'silent',
  SCOPE_AUTH_ISSUER: 'http://scope-auth.test',
};

export interface TestCredentials {
  readonly orgId: string;
  readonly keyId: string;
  readonly secret: string;
}

export interface TestContext {
  readonly app: App;
  readonly deps: AppDeps;
  readonly db: Db;
  readonly database: TestDatabase;
  readonly clock: TestClock;
  /** The key-encryption key, so a second app instance can open the same signing keys. */
  readonly kek: Buffer;
  /** The bootstrapped root org with its admin app and key. */
  readonly root: CreatedOrg;
  readonly rootCredentials: TestCredentials;
  createOrg(name?: string): Promise<CreatedOrg>;
  createApp(orgId: string, scopes: string[], extra?: Partial<AppRecord>): Promise<AppRecord>;
  createKey(orgId: string, appId: string, extra?: { expiresAt?: number | null; name?: string }): Promise<{ key: ApiKeyRow; secret: string }>;
  /** An app with `scopes` and one key on it, in `orgId` (default: the root org). */
  createClient(scopes: string[], options?: { orgId?: string; app?: Partial<AppRecord> }): Promise<TestCredentials & { appId: string }>;
  /** POST /v1/token with the credentials (and optional scope). */
  exchange(credentials: TestCredentials, scope?: string): request.Test;
  /** An access token for the credentials (the exchange must succeed). */
  tokenOf(credentials: TestCredentials): Promise<string>;
  /** A fresh app holding `scopes` with one key, and an access token of that key. */
  tokenFor(scopes: string[], options?: { orgId?: string }): Promise<TestCredentials & { appId: string; token: string }>;
  close(): Promise<void>;
}

export async function createTestContext(options: {
  dialect: Dialect;
  env?: TestEnv;
  clock?: TestClock;
  /** Members replacing the default catalogue's (e.g. `audiences`); written to a file SCOPE_AUTH_CATALOG names. */
  catalog?: Partial<CatalogInput>;
  /**
   * An upgrade: the database is migrated only up to `before` (excluded), `seed` writes rows
   * as that older version did (no root org: the context makes one), then the remaining
   * migrations run and the server starts.
   */
  upgrade?: { before: string; seed(db: Db, tools: { hasher: SecretHasher; clock: TestClock }): Promise<void> };
}): Promise<TestContext> {
  const { upgrade } = options;
  const database = await openTestDatabase(options.dialect, upgrade === undefined ? {} : { before: upgrade.before });
  const db = database.handle.db;
  const clock = options.clock ?? createTestClock();
  const catalog = options.catalog === undefined ? null : catalogFile(options.catalog);
  const config = loadConfig({ ...TEST_ENV, ...(catalog ? { SCOPE_AUTH_CATALOG: catalog.path } : {}), ...options.env });
  if (upgrade !== undefined) {
    await upgrade.seed(db, { hasher: createArgon2Hasher(config.argon2), clock });
    await migrateToLatest(db);
  }
  const kek = randomBytes(32);
  const deps = await createServices(config, { db, kek, logger: testLogger(), clock });
  // After an upgrade's seed the database holds orgs already, so the first start makes none.
  const root = upgrade === undefined ? (await bootstrapRootOrg(deps))! : await createOrgWithAdmin(deps, { name: 'default', root: true, actor: 'system' });
  const app = createApp(deps);

  const context: TestContext = {
    app,
    deps,
    db,
    database,
    clock,
    kek,
    root,
    rootCredentials: { orgId: root.org.id, keyId: root.key.id, secret: root.secret },
    createOrg: (name = 'acme') => createOrgWithAdmin(deps, { name, root: false, actor: 'system' }),
    async createApp(orgId, scopes, extra = {}) {
      const record = appRow(orgId, clock.now(), { scopes, ...extra });
      await insertApp(db, record);
      return record;
    },
    async createKey(orgId, appId, extra = {}) {
      const { row, secret } = await prepareKey(deps, clock.now(), {
        orgId,
        appId,
        name: extra.name ?? 'test key',
        expiresAt: extra.expiresAt ?? null,
        actor: 'system',
      });
      await insertApiKey(db, row);
      return { key: row, secret };
    },
    async createClient(scopes, opts = {}) {
      const orgId = opts.orgId ?? root.org.id;
      const { app: created, key, secret } = await seedClient(deps, orgId, scopes, opts.app === undefined ? {} : { app: opts.app });
      return { orgId, appId: created.id, keyId: key.id, secret };
    },
    exchange(credentials, scope) {
      return request(app)
        .post('/v1/token')
        .send({ org_id: credentials.orgId, key_id: credentials.keyId, secret: credentials.secret, ...(scope === undefined ? {} : { scope }) });
    },
    async tokenOf(credentials) {
      const res = await context.exchange(credentials);
      if (res.status !== 200) throw new Error(`exchange failed with ${res.status}: ${res.text}`);
      return (res.body as { access_token: string }).access_token;
    },
    async tokenFor(scopes, opts = {}) {
      const client = await context.createClient(scopes, opts.orgId === undefined ? {} : { orgId: opts.orgId });
      return { ...client, token: await context.tokenOf(client) };
    },
    async close() {
      deps.keyring.stop();
      await deps.refusalAudit.stop();
      deps.throttle.stop();
      await deps.people.refusalAudit.stop();
      deps.people.throttle.stop();
      await deps.lastUsed.stop();
      await database.close();
      catalog?.remove();
    },
  };
  return context;
}
