import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import type { SigningAlg } from '../../src/config.js';
import { KekError, open } from '../../src/domain/kek.js';
import { createKeyring } from '../../src/domain/keyring.js';
import { generateSigningKey } from '../../src/domain/signing-key-material.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { jwksOf, kidsOf, PUBLISH_SECONDS, statesOf, TTL_MAX_SECONDS, useKeyringFixture } from '../helpers/keyring.js';
import { testLogger } from '../helpers/test-logger.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

describe.each(DIALECTS)('keyring on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    const fixture = useKeyringFixture(dialectCase.dialect);

    describe('init', () => {
      it('creates a signing ES256 key and a published standby, each kid the RFC 7638 thumbprint of its published JWK', async () => {
        const { db, clock, keyringOn, storedKeys } = fixture();
        const keyring = keyringOn(db);
        await keyring.init();
        const rows = await storedKeys();
        expect(rows.map((r) => r.generation)).toEqual([1, 2]);
        const { keys } = jwksOf(keyring);
        expect(keys.map((k) => k.kid)).toEqual(rows.map((r) => r.kid));
        for (const jwk of keys) {
          expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
          expect(jwk.kid).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
        }
        expect(keyring.signingKey()).toMatchObject({ kid: rows[0]!.kid, alg: 'ES256' });
        expect(keyring.ready()).toBe(true);
        const common = { alg: 'ES256', created_at: clock.now(), retires_at: null, unpublishes_at: null };
        expect(keyring.list()).toEqual([
          { ...common, kid: rows[0]!.kid, generation: 1, activates_at: clock.now(), state: 'active' },
          { ...common, kid: rows[1]!.kid, generation: 2, activates_at: null, state: 'standby' },
        ]);
      });

      it('publishes only the public members of the keys', async () => {
        const { db, keyringOn } = fixture();
        const keyring = keyringOn(db);
        await keyring.init();
        for (const jwk of jwksOf(keyring).keys) {
          expect(Object.keys(jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
          for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
        }
      });

      it('stores the private keys encrypted, never as plaintext', async () => {
        const { db, kek, keyringOn } = fixture();
        await keyringOn(db).init();
        const rows = await db.selectFrom('signing_keys').selectAll().execute();
        expect(rows).toHaveLength(2);
        for (const row of rows) {
          expect(row.private_jwk_enc).not.toContain('"d":');
          expect(row.private_jwk_enc).toMatch(/^v1\./);
          const privateJwk = JSON.parse(open(kek, row.private_jwk_enc, `signing key ${row.kid}`)) as { d: string };
          expect(privateJwk.d).toEqual(expect.any(String));
          expect(row.private_jwk_enc).not.toContain(privateJwk.d);
          expect(row.public_jwk).not.toContain(privateJwk.d);
          expect(JSON.parse(row.public_jwk)).not.toHaveProperty('d');
        }
      });

      it('stores the standby as signing in the far future, so a server of the previous version publishes it and never signs with it', async () => {
        const { db, keyringOn, storedKeys } = fixture();
        await keyringOn(db).init();
        const standby = (await storedKeys())[1]!;
        expect(standby.retires_at).toBeNull();
        expect(new Date(standby.activates_at).getUTCFullYear()).toBeGreaterThan(100_000);
      });

      it('on a database that has keys creates nothing new and signs with the stored key', async () => {
        const { db, clock, keyringOn, secondConnection, storedKeys, signWith } = fixture();
        const first = keyringOn(db);
        await first.init();
        const second = keyringOn(await secondConnection());
        await second.init();
        expect(await storedKeys()).toHaveLength(2);
        expect(second.signingKey().kid).toBe(first.signingKey().kid);
        expect(second.jwks()).toEqual(first.jwks());
        const token = await signWith(second);
        await expect(jwtVerify(token, createLocalJWKSet(jwksOf(first)), { currentDate: new Date(clock.now()) })).resolves.toBeDefined();
      });

      it('agrees on one signing key and one standby when two processes start together on an empty database', async () => {
        const { db, keyringOn, secondConnection, storedKeys } = fixture();
        // SQLite: one shared connection, as kysely serialises it; PostgreSQL: two pools.
        const otherDb = dialectCase.dialect === 'sqlite' ? db : await secondConnection();
        const a = keyringOn(db);
        const b = keyringOn(otherDb);
        await Promise.all([a.init(), b.init()]);
        expect((await storedKeys()).map((r) => r.generation)).toEqual([1, 2]);
        expect(a.signingKey().kid).toBe(b.signingKey().kid);
        expect(a.list()).toEqual(b.list());
      });

      it('gives a database from before standbys (one signing key) a standby, and keeps signing with the same key', async () => {
        const { db, kek, clock, keyringOn, storedKeys, signWith } = fixture();
        const old = await generateSigningKey('ES256', kek, clock.now());
        await db.insertInto('signing_keys').values({ ...old, generation: 1, activates_at: clock.now(), retires_at: null }).execute();
        clock.advance(10 * 86_400_000);

        const keyring = keyringOn(db);
        await keyring.init();
        expect(keyring.signingKey().kid).toBe(old.kid);
        expect(statesOf(keyring)).toEqual([
          [old.kid, 'active'],
          [expect.any(String), 'standby'],
        ]);
        expect(kidsOf(keyring)).toEqual((await storedKeys()).map((r) => r.kid));
        const token = await signWith(keyring);
        await expect(jwtVerify(token, createLocalJWKSet(jwksOf(keyring)), { currentDate: new Date(clock.now()) })).resolves.toBeDefined();

        // The new standby is young: a rotation waits until every JWKS cache has had it.
        const rotation = await keyring.rotate();
        expect(rotation.activated.activates_at).toBe(clock.now() + PUBLISH_SECONDS * 1000);
        expect(keyring.signingKey().kid).toBe(old.kid);
      });

      it('fails with a KekError naming the KEK when the stored keys were sealed under another KEK', async () => {
        const { db, clock, keyringOn, secondConnection, storedKeys } = fixture();
        await keyringOn(db).init();
        const wrong = createKeyring({
          db: await secondConnection(),
          kek: randomBytes(32),
          clock,
          logger: testLogger(),
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
        expect(await storedKeys()).toHaveLength(2);
      });
    });

    describe.each([
      { alg: 'ES256', members: ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'], kty: 'EC' },
      { alg: 'EdDSA', members: ['alg', 'crv', 'kid', 'kty', 'use', 'x'], kty: 'OKP' },
      { alg: 'RS256', members: ['alg', 'e', 'kid', 'kty', 'n', 'use'], kty: 'RSA' },
      { alg: 'PS256', members: ['alg', 'e', 'kid', 'kty', 'n', 'use'], kty: 'RSA' },
    ] as const)('with $alg keys', ({ alg, members, kty }) => {
      it('signs tokens that jose verifies with the published JWK', async () => {
        const { db, clock, keyringOn, secondConnection, signWith } = fixture();
        const keyring = keyringOn(db, { alg: alg as SigningAlg });
        await keyring.init();
        const jwks = jwksOf(keyring);
        expect(jwks.keys).toHaveLength(2);
        const jwk = jwks.keys[0]!;
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
