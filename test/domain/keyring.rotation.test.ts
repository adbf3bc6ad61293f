import { decodeProtectedHeader } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { RotationConflictError, type Keyring } from '../../src/domain/keyring.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { DAY, kidsOf, PUBLISH_SECONDS, SECOND, statesOf, UNPUBLISH_DELAY, useKeyringFixture } from '../helpers/keyring.js';

const PUBLISH = PUBLISH_SECONDS * SECOND;

describe.each(DIALECTS)('keyring rotation on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    const fixture = useKeyringFixture(dialectCase.dialect);
    let keyring: Keyring;
    let oldKid: string;
    let standbyKid: string;
    let initAt: number;
    beforeEach(async () => {
      keyring = fixture().keyringOn(fixture().db);
      await keyring.init();
      initAt = fixture().clock.now();
      oldKid = keyring.signingKey().kid;
      standbyKid = keyring.list().find((k) => k.state === 'standby')!.kid;
    });

    /** Another process on the same data (SQLite: the same connection, as kysely serialises it). */
    async function otherKeyring(): Promise<Keyring> {
      const other = fixture().keyringOn(dialectCase.dialect === 'sqlite' ? fixture().db : await fixture().secondConnection());
      await other.init();
      return other;
    }

    it('makes the standby sign at once once it has been published for the publish delay: it was in the JWKS all along', async () => {
      const { clock } = fixture();
      clock.advance(PUBLISH);
      expect(kidsOf(keyring)).toEqual([oldKid, standbyKid]);
      const rotation = await keyring.rotate();
      expect(rotation.activated).toMatchObject({ kid: standbyKid, generation: 2, state: 'active', activates_at: clock.now(), created_at: initAt });
      expect(rotation.previous).toMatchObject({ kid: oldKid, state: 'retired', retires_at: clock.now(), unpublishes_at: clock.now() + UNPUBLISH_DELAY });
      expect(rotation.standby).toMatchObject({ generation: 3, state: 'standby', activates_at: null, created_at: clock.now() });
      expect(rotation.discardedStandby).toBeNull();
      expect(keyring.signingKey().kid).toBe(standbyKid);
      expect(decodeProtectedHeader(await fixture().signWith(keyring)).kid).toBe(standbyKid);
      expect(kidsOf(keyring)).toEqual([oldKid, standbyKid, rotation.standby.kid]);
      expect(statesOf(keyring)).toEqual([
        [oldKid, 'retired'],
        [standbyKid, 'active'],
        [rotation.standby.kid, 'standby'],
      ]);
    });

    it('makes a standby published for less than the publish delay sign only once it has been published that long', async () => {
      const { clock, signWith } = fixture();
      clock.advance(100 * SECOND);
      const rotation = await keyring.rotate();
      expect(rotation.activated).toMatchObject({ kid: standbyKid, state: 'pending', activates_at: initAt + PUBLISH });
      expect(statesOf(keyring)).toEqual([
        [oldKid, 'active'],
        [standbyKid, 'pending'],
        [rotation.standby.kid, 'standby'],
      ]);
      clock.set(initAt + PUBLISH - 1);
      expect(decodeProtectedHeader(await signWith(keyring)).kid).toBe(oldKid);
      clock.set(initAt + PUBLISH);
      expect(decodeProtectedHeader(await signWith(keyring)).kid).toBe(standbyKid);
      expect(keyring.list()[0]).toMatchObject({ kid: oldKid, state: 'retired', retires_at: initAt + PUBLISH });
    });

    it('with immediate makes even a young standby sign at once', async () => {
      const { clock } = fixture();
      const rotation = await keyring.rotate({ immediate: true });
      expect(rotation.activated).toMatchObject({ kid: standbyKid, state: 'active', activates_at: clock.now() });
      expect(keyring.signingKey().kid).toBe(standbyKid);
      expect(kidsOf(keyring)).toEqual([oldKid, standbyKid, rotation.standby.kid]);
    });

    it('with replaceStandby deletes the standby, which never signed, and signs with a fresh key at once', async () => {
      const { clock, storedKeys } = fixture();
      clock.advance(DAY);
      const rotation = await keyring.rotate({ immediate: true, replaceStandby: true });
      expect(rotation.discardedStandby).toBe(standbyKid);
      const fresh = rotation.activated;
      expect(fresh).toMatchObject({ generation: 3, state: 'active', created_at: clock.now(), activates_at: clock.now() });
      expect([oldKid, standbyKid]).not.toContain(fresh.kid);
      expect(rotation.standby).toMatchObject({ generation: 4, state: 'standby' });
      expect(keyring.signingKey().kid).toBe(fresh.kid);
      expect(kidsOf(keyring)).toEqual([oldKid, fresh.kid, rotation.standby.kid]);
      expect(keyring.verificationKey(standbyKid)).toBeUndefined();
      expect((await storedKeys()).map((k) => k.kid)).toEqual([oldKid, fresh.kid, rotation.standby.kid]);
      expect(keyring.list()[0]).toMatchObject({ kid: oldKid, state: 'retired', retires_at: clock.now() });
    });

    it('keeps the retired key published until every token it signed has expired, then drops it', async () => {
      const { clock, signWith } = fixture();
      const rotation = await keyring.rotate();
      const retiresAt = rotation.activated.activates_at!;
      const unpublishesAt = retiresAt + UNPUBLISH_DELAY;
      expect(keyring.list()[0]).toMatchObject({ kid: oldKid, retires_at: retiresAt, unpublishes_at: unpublishesAt });

      // A token the old key signed in its last millisecond, with the longest lifetime, still verifies.
      clock.set(retiresAt - 1);
      expect(decodeProtectedHeader(await signWith(keyring)).kid).toBe(oldKid);

      clock.set(unpublishesAt - 1);
      expect(kidsOf(keyring)).toEqual([oldKid, standbyKid, rotation.standby.kid]);
      expect(keyring.verificationKey(oldKid)).toBeDefined();

      clock.set(unpublishesAt);
      expect(kidsOf(keyring)).toEqual([standbyKid, rotation.standby.kid]);
      expect(keyring.verificationKey(oldKid)).toBeUndefined();
      expect(keyring.verificationKey(standbyKid)).toBeDefined();
    });

    it('retires a still-pending key, which then never signs, when an immediate rotation overtakes it', async () => {
      const { clock } = fixture();
      const pending = await keyring.rotate();
      expect(pending.activated.state).toBe('pending');
      const now = clock.now();
      const immediate = await keyring.rotate({ immediate: true });
      expect(immediate.activated.kid).toBe(pending.standby.kid);
      expect(keyring.list().map((k) => [k.kid, k.state, k.retires_at])).toEqual([
        [oldKid, 'retired', now],
        [standbyKid, 'retired', now],
        [pending.standby.kid, 'active', null],
        [immediate.standby.kid, 'standby', null],
      ]);
      clock.set(pending.activated.activates_at!);
      expect(keyring.signingKey().kid).toBe(pending.standby.kid);
      expect(keyring.list()[1]!.state).toBe('retired');
    });

    it('deletes a key from the database once it has left the JWKS, and only then', async () => {
      const { clock, storedKeys } = fixture();
      clock.advance(PUBLISH);
      const rotation = await keyring.rotate();
      const unpublishesAt = clock.now() + UNPUBLISH_DELAY;
      clock.set(unpublishesAt - 1);
      expect(await keyring.pruneUnpublished()).toEqual([]);
      clock.set(unpublishesAt);
      expect(await keyring.pruneUnpublished()).toEqual([oldKid]);
      expect((await storedKeys()).map((r) => r.kid)).toEqual([standbyKid, rotation.standby.kid]);
      expect(keyring.list().map((k) => k.kid)).toEqual([standbyKid, rotation.standby.kid]);
      expect(keyring.signingKey().kid).toBe(standbyKid);
    });

    it('changes the JWKS ETag exactly when the published set changes', async () => {
      const { clock } = fixture();
      const initial = keyring.jwks().etag;
      expect(initial).toMatch(/^"[\w-]+"$/);
      expect(keyring.jwks().etag).toBe(initial);

      // The rotation publishes the next standby.
      const rotation = await keyring.rotate();
      const published = keyring.jwks().etag;
      expect(published).not.toBe(initial);

      // The standby starting to sign does not change what is published.
      clock.set(rotation.activated.activates_at!);
      expect(keyring.signingKey().kid).toBe(standbyKid);
      expect(keyring.jwks().etag).toBe(published);
      await keyring.refresh();
      expect(keyring.jwks().etag).toBe(published);

      clock.advance(UNPUBLISH_DELAY - 1);
      expect(keyring.jwks().etag).toBe(published);
      clock.advance(1);
      expect(keyring.jwks().etag).not.toBe(published);
    });

    it('never publishes a JWKS without the kid of the key it signs with', async () => {
      const { clock } = fixture();
      const check = () => expect(kidsOf(keyring)).toContain(keyring.signingKey().kid);
      const steps: Array<() => Promise<unknown>> = [
        () => keyring.rotate(),
        () => keyring.rotate({ immediate: true }),
        () => keyring.rotate({ immediate: true, replaceStandby: true }),
        () => keyring.rotateIfDue(),
        () => keyring.pruneUnpublished(),
      ];
      for (let round = 0; round < 3; round++) {
        for (const step of steps) {
          await step();
          check();
          for (const advance of [1, PUBLISH - 1, 1, UNPUBLISH_DELAY, 31 * DAY]) {
            clock.advance(advance);
            check();
            await keyring.pruneUnpublished();
            check();
          }
        }
      }
    });

    it('rotates when due after the rotation period and not before', async () => {
      const { clock, storedKeys } = fixture();
      clock.set(initAt + 30 * DAY - 1);
      expect(await keyring.rotateIfDue()).toBe(false);
      expect(await storedKeys()).toHaveLength(2);

      clock.set(initAt + 30 * DAY);
      expect(await keyring.rotateIfDue()).toBe(true);
      // The standby had been published for 30 days: it signs at once.
      expect(keyring.signingKey().kid).toBe(standbyKid);
      expect((await storedKeys()).map((k) => k.generation)).toEqual([1, 2, 3]);
      expect(await keyring.rotateIfDue()).toBe(false);
    });

    it('measures the rotation period from when the newest key started signing', async () => {
      const { clock, storedKeys } = fixture();
      const rotation = await keyring.rotate();
      const startedAt = rotation.activated.activates_at!;
      clock.set(startedAt + 30 * DAY - 1);
      expect(await keyring.rotateIfDue()).toBe(false);
      clock.set(startedAt + 30 * DAY);
      expect(await keyring.rotateIfDue()).toBe(true);
      expect((await storedKeys()).map((k) => k.generation)).toEqual([1, 2, 3, 4]);
    });

    it('lets another process that has not re-read yet verify tokens of the newly signing key: it was the standby', async () => {
      const other = await otherKeyring();
      const rotation = await keyring.rotate({ immediate: true });
      expect(keyring.signingKey().kid).toBe(standbyKid);
      // Until it re-reads, the other process signs with the old key and lacks the next standby,
      // but it already publishes and verifies the key that now signs.
      expect(other.signingKey().kid).toBe(oldKid);
      expect(other.verificationKey(standbyKid)).toBeDefined();
      expect(kidsOf(other)).toEqual([oldKid, standbyKid]);

      await other.refresh();
      expect(other.signingKey().kid).toBe(standbyKid);
      expect(other.jwks()).toEqual(keyring.jwks());
      expect(other.verificationKey(rotation.standby.kid)).toBeDefined();
    });

    it('makes one rotation when two processes rotate at once; the other fails with RotationConflictError and changes nothing', async () => {
      const { storedKeys } = fixture();
      const other = await otherKeyring();
      const results = await Promise.allSettled([keyring.rotate({ immediate: true }), other.rotate({ immediate: true })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const [failure] = results.filter((r) => r.status === 'rejected');
      expect(failure?.reason).toBeInstanceOf(RotationConflictError);
      expect((failure?.reason as Error).message).toBe('another rotation of the signing keys happened at the same moment; nothing was changed');
      expect((await storedKeys()).map((k) => k.generation)).toEqual([1, 2, 3]);
      await Promise.all([keyring.refresh(), other.refresh()]);
      expect(other.list()).toEqual(keyring.list());
      expect(other.signingKey().kid).toBe(standbyKid);
    });

    it('refuses to rotate from keys read before another process rotated, and to replace a standby already replaced', async () => {
      const { storedKeys } = fixture();
      const late = await otherKeyring();
      const later = await otherKeyring();
      await keyring.rotate({ immediate: true, replaceStandby: true });
      const stored = await storedKeys();
      await expect(late.rotate()).rejects.toThrow(RotationConflictError);
      await expect(later.rotate({ immediate: true, replaceStandby: true })).rejects.toThrow(RotationConflictError);
      expect(await storedKeys()).toEqual(stored);
      // The conflict left it holding the keys as they are: its next rotation goes ahead.
      await expect(late.rotate({ immediate: true })).resolves.toMatchObject({ activated: { generation: 4 } });
    });

    it('makes one rotation when two processes rotate when due at the same moment, and both report it', async () => {
      const { clock, storedKeys } = fixture();
      const other = await otherKeyring();
      clock.advance(30 * DAY);
      expect(await Promise.all([keyring.rotateIfDue(), other.rotateIfDue()])).toEqual([true, true]);
      expect((await storedKeys()).map((k) => k.generation)).toEqual([1, 2, 3]);
      await Promise.all([keyring.refresh(), other.refresh()]);
      expect(keyring.jwks()).toEqual(other.jwks());
    });
  });
});
