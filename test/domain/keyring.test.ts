import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SigningAlg } from '../../src/config.js';
import { KekError, open } from '../../src/domain/kek.js';
import { createKeyring, type Keyring, type KeyringOptions } from '../../src/domain/keyring.js';
import { mintAccessToken } from '../../src/domain/tokens.js';
import { createDatabase, type DatabaseHandle, type Db } from '../../src/store/database.js';
import { createTestClock, type TestClock } from '../helpers/clock.js';
import { DIALECTS, dialectTitle, openTestDatabase, type TestDatabase } from '../helpers/db.js';

const SECOND = 1000;
const DAY = 86_400 * SECOND;
const PUBLISH_SECONDS = 300;
const TTL_MAX_SECONDS = 3600;
const LEEWAY = 60 * SECOND;

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

interface Jwks {
  keys: JWK[];
}

const jwksOf = (keyring: Keyring): Jwks => JSON.parse(keyring.jwks().body) as Jwks;
const kidsOf = (keyring: Keyring) => jwksOf(keyring).keys.map((k) => k.kid);

describe.each(DIALECTS)('keyring on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let database: TestDatabase;
    let db: Db;
    let clock: TestClock;
    let kek: Buffer;
    const extraHandles: DatabaseHandle[] = [];

    beforeEach(async () => {
      database = await openTestDatabase(dialectCase.dialect);
      db = database.handle.db;
      clock = createTestClock();
      kek = randomBytes(32);
    });
    afterEach(async () => {
      for (const handle of extraHandles.splice(0)) await handle.close();
      await database.close();
    });

    function keyringOn(target: Db, options: Partial<KeyringOptions> = {}): Keyring {
      return createKeyring({
        db: target,
        kek,
        clock,
        logger: pino({ level: 'silent' }),
        alg: 'ES256',
        rotationDays: 30,
        tokenTtlMaxSeconds: TTL_MAX_SECONDS,
        publishSeconds: PUBLISH_SECONDS,
        refreshSeconds: 5,
        ...options,
      });
    }

    /** A second connection to the same data, as another server process would have. */
    async function secondConnection(): Promise<Db> {
      const handle = await createDatabase(database.url, database.schema === undefined ? {} : { schema: database.schema });
      extraHandles.push(handle);
      return handle.db;
    }

    async function storedKeys() {
      return db.selectFrom('signing_keys').selectAll().orderBy('generation').execute();
    }

    async function signWith(keyring: Keyring): Promise<string> {
      return mintAccessToken(keyring.signingKey(), {
        issuer: 'http://scope-auth.test',
        audience: 'http://scope-auth.test',
        keyId: 'key_01JD0000000000000000000000',
        orgId: 'org_01JD0000000000000000000000',
        appId: 'app_01JD0000000000000000000000',
        scopes: ['agents:view'],
        ttlSeconds: 900,
        nowMs: clock.now(),
      });
    }

    describe('init', () => {
      it('creates one ES256 key whose kid is the RFC 7638 thumbprint of the published JWK', async () => {
        const keyring = keyringOn(db);
        await keyring.init();
        const rows = await storedKeys();
        expect(rows).toHaveLength(1);
        const { keys } = jwksOf(keyring);
        expect(keys).toHaveLength(1);
        const jwk = keys[0]!;
        expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
        expect(jwk.kid).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
        expect(jwk.kid).toBe(rows[0]!.kid);
        expect(keyring.signingKey()).toMatchObject({ kid: jwk.kid, alg: 'ES256' });
        expect(keyring.ready()).toBe(true);
        expect(keyring.list()).toEqual([
          {
            kid: jwk.kid,
            alg: 'ES256',
            generation: 1,
            created_at: clock.now(),
            activates_at: clock.now(),
            retires_at: null,
            unpublishes_at: null,
            state: 'active',
          },
        ]);
      });

      it('publishes only the public members of the key', async () => {
        const keyring = keyringOn(db);
        await keyring.init();
        const jwk = jwksOf(keyring).keys[0]!;
        expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
        for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
      });

      it('stores the private key encrypted, never as plaintext', async () => {
        const keyring = keyringOn(db);
        await keyring.init();
        const [row] = await storedKeys();
        expect(row!.private_jwk_enc).not.toContain('"d":');
        expect(row!.private_jwk_enc).toMatch(/^v1\./);
        const privateJwk = JSON.parse(open(kek, row!.private_jwk_enc, `signing key ${row!.kid}`)) as JWK;
        expect(privateJwk.d).toEqual(expect.any(String));
        expect(row!.private_jwk_enc).not.toContain(privateJwk.d);
        expect(row!.public_jwk).not.toContain(privateJwk.d);
        expect(JSON.parse(row!.public_jwk)).not.toHaveProperty('d');
      });

      it('on a database that has a key creates nothing new and signs with the stored key', async () => {
        const first = keyringOn(db);
        await first.init();
        const second = keyringOn(await secondConnection());
        await second.init();
        expect(await storedKeys()).toHaveLength(1);
        expect(second.signingKey().kid).toBe(first.signingKey().kid);
        expect(second.jwks()).toEqual(first.jwks());
        const token = await signWith(second);
        await expect(jwtVerify(token, createLocalJWKSet(jwksOf(first)), { currentDate: new Date(clock.now()) })).resolves.toBeDefined();
      });

      it('agrees on one key when two processes start together on an empty database', async () => {
        // SQLite: one shared connection, as kysely serialises it; PostgreSQL: two pools.
        const otherDb = dialectCase.dialect === 'sqlite' ? db : await secondConnection();
        const a = keyringOn(db);
        const b = keyringOn(otherDb);
        await Promise.all([a.init(), b.init()]);
        expect(await storedKeys()).toHaveLength(1);
        expect(a.signingKey().kid).toBe(b.signingKey().kid);
      });

      it('fails with a KekError naming the KEK when the stored keys were sealed under another KEK', async () => {
        await keyringOn(db).init();
        const wrong = createKeyring({
          db: await secondConnection(),
          kek: randomBytes(32),
          clock,
          logger: pino({ level: 'silent' }),
          alg: 'ES256',
          rotationDays: 30,
          tokenTtlMaxSeconds: TTL_MAX_SECONDS,
          publishSeconds: PUBLISH_SECONDS,
          refreshSeconds: 5,
        });
        const failure = wrong.init();
        await expect(failure).rejects.toThrow(KekError);
        await expect(failure).rejects.toThrow(/SCOPE_AUTH_KEK/);
        expect(wrong.ready()).toBe(false);
        expect(() => wrong.signingKey()).toThrow();
        expect(await storedKeys()).toHaveLength(1);
      });
    });

    describe('rotation', () => {
      let keyring: Keyring;
      let oldKid: string;
      beforeEach(async () => {
        keyring = keyringOn(db);
        await keyring.init();
        oldKid = keyring.signingKey().kid;
      });

      it('publishes the new key at once but keeps signing with the old one until the publish delay passes', async () => {
        const rotatedAt = clock.now();
        const created = await keyring.rotate();
        expect(created).toMatchObject({ generation: 2, state: 'pending', activates_at: rotatedAt + PUBLISH_SECONDS * SECOND });
        expect(kidsOf(keyring)).toEqual([oldKid, created.kid]);
        expect(keyring.verificationKey(created.kid)).toBeDefined();
        expect(keyring.signingKey().kid).toBe(oldKid);

        clock.set(rotatedAt + PUBLISH_SECONDS * SECOND - 1);
        expect(keyring.signingKey().kid).toBe(oldKid);
        expect(decodeProtectedHeader(await signWith(keyring)).kid).toBe(oldKid);

        clock.set(rotatedAt + PUBLISH_SECONDS * SECOND);
        expect(keyring.signingKey().kid).toBe(created.kid);
        expect(decodeProtectedHeader(await signWith(keyring)).kid).toBe(created.kid);
        expect(keyring.list().map((k) => [k.kid, k.state])).toEqual([
          [oldKid, 'retired'],
          [created.kid, 'active'],
        ]);
      });

      it('with immediate signs with the new key at once', async () => {
        const created = await keyring.rotate({ immediate: true });
        expect(created.state).toBe('active');
        expect(keyring.signingKey().kid).toBe(created.kid);
        expect(kidsOf(keyring)).toEqual([oldKid, created.kid]);
      });

      it('keeps the retired key published until every token it signed has expired, then drops it', async () => {
        const created = await keyring.rotate();
        const retiresAt = created.activates_at;
        const unpublishesAt = retiresAt + TTL_MAX_SECONDS * SECOND + LEEWAY;
        expect(keyring.list()[0]).toMatchObject({ kid: oldKid, retires_at: retiresAt, unpublishes_at: unpublishesAt });

        // A token the old key signed in its last millisecond, with the longest lifetime, still verifies.
        clock.set(retiresAt - 1);
        const lastToken = await signWith(keyring);
        expect(decodeProtectedHeader(lastToken).kid).toBe(oldKid);

        clock.set(unpublishesAt - 1);
        expect(kidsOf(keyring)).toEqual([oldKid, created.kid]);
        expect(keyring.verificationKey(oldKid)).toBeDefined();

        clock.set(unpublishesAt);
        expect(kidsOf(keyring)).toEqual([created.kid]);
        expect(keyring.verificationKey(oldKid)).toBeUndefined();
        expect(keyring.verificationKey(created.kid)).toBeDefined();
      });

      it('retires a still-pending key and pulls the old key\'s retirement forward when an immediate rotation overtakes it', async () => {
        const pending = await keyring.rotate();
        expect(pending.state).toBe('pending');
        const now = clock.now();
        const immediate = await keyring.rotate({ immediate: true });
        expect(keyring.signingKey().kid).toBe(immediate.kid);
        expect(keyring.list().map((k) => [k.kid, k.state, k.retires_at])).toEqual([
          [oldKid, 'retired', now],
          [pending.kid, 'retired', now],
          [immediate.kid, 'active', null],
        ]);
        // Even once its own activation time comes, the overtaken key never signs.
        clock.set(pending.activates_at);
        expect(keyring.signingKey().kid).toBe(immediate.kid);
        expect(keyring.list().find((k) => k.kid === pending.kid)?.state).toBe('retired');
      });

      it('publishes a rotated key exactly the publish delay before it signs', async () => {
        const created = await keyring.rotate();
        expect(created.activates_at - created.created_at).toBe(PUBLISH_SECONDS * SECOND);
      });

      it('deletes a key from the database once it has left the JWKS, and only then', async () => {
        const created = await keyring.rotate();
        const unpublishesAt = created.activates_at + TTL_MAX_SECONDS * SECOND + LEEWAY;
        clock.set(unpublishesAt - 1);
        expect(await keyring.pruneUnpublished()).toEqual([]);
        clock.set(unpublishesAt);
        expect(await keyring.pruneUnpublished()).toEqual([oldKid]);
        const stored = await db.selectFrom('signing_keys').select('kid').execute();
        expect(stored.map((r) => r.kid)).toEqual([created.kid]);
        expect(keyring.list().map((k) => k.kid)).toEqual([created.kid]);
        expect(keyring.signingKey().kid).toBe(created.kid);
      });

      it('changes the JWKS ETag exactly when the published set changes', async () => {
        const initial = keyring.jwks().etag;
        expect(initial).toMatch(/^"[\w-]+"$/);
        expect(keyring.jwks().etag).toBe(initial);

        const created = await keyring.rotate();
        const published = keyring.jwks().etag;
        expect(published).not.toBe(initial);

        // The new key starting to sign does not change what is published.
        clock.set(created.activates_at);
        expect(keyring.signingKey().kid).toBe(created.kid);
        expect(keyring.jwks().etag).toBe(published);
        await keyring.refresh();
        expect(keyring.jwks().etag).toBe(published);

        clock.set(created.activates_at + TTL_MAX_SECONDS * SECOND + LEEWAY - 1);
        expect(keyring.jwks().etag).toBe(published);

        clock.advance(1);
        const dropped = keyring.jwks().etag;
        expect(dropped).not.toBe(published);
        expect(dropped).not.toBe(initial);
      });

      it('rotates when due after the rotation period and not before', async () => {
        const start = clock.now();
        clock.set(start + 30 * DAY - 1);
        expect(await keyring.rotateIfDue()).toBe(false);
        expect(await storedKeys()).toHaveLength(1);

        clock.set(start + 30 * DAY);
        expect(await keyring.rotateIfDue()).toBe(true);
        expect(await storedKeys()).toHaveLength(2);
        expect(kidsOf(keyring)).toHaveLength(2);

        // The pending key counts as the rotation: no second one while it waits to sign.
        expect(await keyring.rotateIfDue()).toBe(false);
        clock.advance(PUBLISH_SECONDS * SECOND);
        expect(await keyring.rotateIfDue()).toBe(false);
        expect(await storedKeys()).toHaveLength(2);
      });

      it('measures the rotation period from when the newest key started signing', async () => {
        const created = await keyring.rotate();
        clock.set(created.activates_at + 30 * DAY - 1);
        expect(await keyring.rotateIfDue()).toBe(false);
        clock.set(created.activates_at + 30 * DAY);
        expect(await keyring.rotateIfDue()).toBe(true);
        expect((await storedKeys()).map((k) => k.generation)).toEqual([1, 2, 3]);
      });

      it('is seen by another process after its refresh', async () => {
        const other = keyringOn(await secondConnection());
        await other.init();
        expect(other.signingKey().kid).toBe(oldKid);

        const created = await keyring.rotate({ immediate: true });
        expect(keyring.signingKey().kid).toBe(created.kid);
        // Until it re-reads the table, the other process knows nothing of the new key.
        expect(other.signingKey().kid).toBe(oldKid);
        expect(kidsOf(other)).toEqual([oldKid]);
        expect(other.verificationKey(created.kid)).toBeUndefined();

        await other.refresh();
        expect(other.signingKey().kid).toBe(created.kid);
        expect(other.jwks()).toEqual(keyring.jwks());
        expect(other.verificationKey(created.kid)).toBeDefined();
      });

      it('adds one key when two processes rotate when due at the same moment', async () => {
        const otherDb = dialectCase.dialect === 'sqlite' ? db : await secondConnection();
        const other = keyringOn(otherDb);
        await other.init();
        clock.advance(30 * DAY);
        const results = await Promise.all([keyring.rotateIfDue(), other.rotateIfDue()]);
        expect(results).toEqual([true, true]);
        expect((await storedKeys()).map((k) => k.generation)).toEqual([1, 2]);
        await Promise.all([keyring.refresh(), other.refresh()]);
        expect(keyring.jwks()).toEqual(other.jwks());
      });
    });

    describe.each([
      { alg: 'ES256', members: ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'], kty: 'EC' },
      { alg: 'EdDSA', members: ['alg', 'crv', 'kid', 'kty', 'use', 'x'], kty: 'OKP' },
      { alg: 'RS256', members: ['alg', 'e', 'kid', 'kty', 'n', 'use'], kty: 'RSA' },
      { alg: 'PS256', members: ['alg', 'e', 'kid', 'kty', 'n', 'use'], kty: 'RSA' },
    ] as const)('with $alg keys', ({ alg, members, kty }) => {
      it('signs tokens that jose verifies with the published JWK', async () => {
        const keyring = keyringOn(db, { alg: alg as SigningAlg });
        await keyring.init();
        const jwk = jwksOf(keyring).keys[0]!;
        expect(jwk).toMatchObject({ kty, alg, use: 'sig' });
        expect(Object.keys(jwk).sort()).toEqual([...members]);
        expect(jwk.kid).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
        if (kty === 'RSA') expect(Buffer.from(jwk.n!, 'base64url').length * 8).toBe(3072);
        if (alg === 'EdDSA') expect(jwk.crv).toBe('Ed25519');

        const token = await signWith(keyring);
        const { protectedHeader, payload } = await jwtVerify(token, createLocalJWKSet(jwksOf(keyring)), {
          algorithms: [alg],
          issuer: 'http://scope-auth.test',
          typ: 'at+jwt',
          currentDate: new Date(clock.now()),
        });
        expect(protectedHeader).toEqual({ alg, kid: jwk.kid, typ: 'at+jwt' });
        expect(payload.scope).toBe('agents:view');

        // Another process loads the stored key and signs with it too.
        const other = keyringOn(await secondConnection(), { alg: alg as SigningAlg });
        await other.init();
        await expect(
          jwtVerify(await signWith(other), createLocalJWKSet(jwksOf(keyring)), { algorithms: [alg], currentDate: new Date(clock.now()) }),
        ).resolves.toBeDefined();
      });
    });
  });
});
