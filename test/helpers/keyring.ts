// Keyrings on a fresh test database, as server processes build them: a test clock, a KEK,
// second connections to the same data, and change feeds on PostgreSQL.
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import { afterEach, beforeEach } from 'vitest';
import { createKeyring, type Keyring, type KeyringOptions } from '../../src/domain/keyring.js';
import { mintAccessToken } from '../../src/domain/tokens.js';
import { openChangeFeed, type ChangeFeed } from '../../src/store/change-feed.js';
import { createDatabase, type DatabaseHandle, type Db, type Dialect } from '../../src/store/database.js';
import { createTestClock, type TestClock } from './clock.js';
import { openTestDatabase, type TestDatabase } from './db.js';
import { testLogger } from './test-logger.js';

export const SECOND = 1000;
export const DAY = 86_400 * SECOND;
export const PUBLISH_SECONDS = 300;
export const TTL_MAX_SECONDS = 3600;
export const LEEWAY = 60 * SECOND;
/** When a retired key leaves the JWKS, after it stopped signing. */
export const UNPUBLISH_DELAY = TTL_MAX_SECONDS * SECOND + LEEWAY;

export interface Jwks {
  keys: JWK[];
}

export const jwksOf = (keyring: Keyring): Jwks => JSON.parse(keyring.jwks().body) as Jwks;
export const kidsOf = (keyring: Keyring) => jwksOf(keyring).keys.map((k) => k.kid);
export const statesOf = (keyring: Keyring) => keyring.list().map((k) => [k.kid, k.state]);

export interface KeyringFixture {
  readonly database: TestDatabase;
  readonly db: Db;
  readonly clock: TestClock;
  readonly kek: Buffer;
  keyringOn(target: Db, options?: Partial<KeyringOptions>): Keyring;
  /** A second connection to the same data, as another server process would have. */
  secondConnection(): Promise<Db>;
  /** A change feed on the test schema (PostgreSQL), closed after the test. */
  feed(applicationName?: string): ChangeFeed;
  storedKeys(): Promise<Array<{ kid: string; generation: number; activates_at: number; retires_at: number | null }>>;
  signWith(keyring: Keyring): Promise<string>;
}

/** Registers beforeEach/afterEach hooks; the returned function gives the current test's fixture. */
export function useKeyringFixture(dialect: Dialect): () => KeyringFixture {
  let fixture: KeyringFixture;
  const handles: DatabaseHandle[] = [];
  const feeds: ChangeFeed[] = [];
  const keyrings: Keyring[] = [];

  beforeEach(async () => {
    const database = await openTestDatabase(dialect);
    const db = database.handle.db;
    const clock = createTestClock();
    const kek = randomBytes(32);
    fixture = {
      database,
      db,
      clock,
      kek,
      keyringOn(target, options = {}) {
        const keyring = createKeyring({
          db: target,
          kek,
          clock,
          logger: testLogger(),
          alg: 'ES256',
          rotationDays: 30,
          tokenTtlMaxSeconds: TTL_MAX_SECONDS,
          publishSeconds: PUBLISH_SECONDS,
          refreshSeconds: 5,
          ...options,
        });
        keyrings.push(keyring);
        return keyring;
      },
      async secondConnection() {
        const handle = await createDatabase(database.url, database.schema === undefined ? {} : { schema: database.schema });
        handles.push(handle);
        return handle.db;
      },
      feed(applicationName) {
        const feed = openChangeFeed({
          url: database.url,
          ...(database.schema === undefined ? {} : { schema: database.schema }),
          logger: testLogger(),
          ...(applicationName === undefined ? {} : { applicationName }),
        });
        feeds.push(feed);
        return feed;
      },
      storedKeys: () => db.selectFrom('signing_keys').select(['kid', 'generation', 'activates_at', 'retires_at']).orderBy('generation').execute(),
      signWith: (keyring) =>
        mintAccessToken(keyring.signingKey(), {
          issuer: 'http://scope-auth.test',
          audience: 'http://scope-auth.test',
          keyId: 'key_01JD0000000000000000000000',
          orgId: 'org_01JD0000000000000000000000',
          appId: 'app_01JD0000000000000000000000',
          scopes: ['agents:view'],
          ttlSeconds: 900,
          nowMs: clock.now(),
        }),
    };
  });
  afterEach(async () => {
    for (const keyring of keyrings.splice(0)) keyring.stop();
    for (const feed of feeds.splice(0)) await feed.close();
    for (const handle of handles.splice(0)) await handle.close();
    await fixture.database.close();
  });
  return () => fixture;
}
