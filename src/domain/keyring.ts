// Signing keys: generation, encryption at rest, the JWKS, and the rotation lifecycle.
//
// Every state is derived from stored times, so all processes sharing a database agree:
//   published  from created_at until retires_at + token TTL max + leeway (or forever if not retiring)
//   signing    the highest generation whose activates_at has passed
// A rotation publishes the new key `publishSeconds` before it signs (downstream JWKS caches
// pick it up first) and schedules the previous keys to retire when it starts signing.
import { createHash, createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Logger } from 'pino';
import type { SigningAlg } from '../config.js';
import type { Db } from '../store/database.js';
import { deleteSigningKeys, insertSigningKey, listSigningKeys, type SigningKeyRow } from '../store/signing-keys.js';
import type { Clock } from './clock.js';
import { open, seal } from './kek.js';

export interface ActiveSigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  /** A node:crypto key, made once per key at load, so signing converts nothing per token. */
  readonly privateKey: KeyObject;
}

export interface SigningKeyInfo {
  readonly kid: string;
  readonly alg: string;
  readonly generation: number;
  readonly created_at: number;
  readonly activates_at: number;
  readonly retires_at: number | null;
  /** When it leaves the JWKS (null while it has no retirement scheduled). */
  readonly unpublishes_at: number | null;
  readonly state: 'pending' | 'active' | 'retired';
}

export interface Jwks {
  readonly body: string;
  readonly etag: string;
}

export interface Keyring {
  /** Loads the stored keys and creates the first one when there is none. */
  init(): Promise<void>;
  /** Re-reads the stored keys (other processes may have rotated). */
  refresh(): Promise<void>;
  /** The key to sign with now; throws when none is loaded (readiness reports that). */
  signingKey(): ActiveSigningKey;
  jwks(): Jwks;
  /** The public key of a published signing key, for verifying this server's own tokens. */
  verificationKey(kid: string): CryptoKey | undefined;
  ready(): boolean;
  list(): SigningKeyInfo[];
  /** Adds the next key; it signs after the publish delay, or at once with `immediate`. */
  rotate(options?: { immediate?: boolean }): Promise<SigningKeyInfo>;
  /** Rotates when the newest key is older than the rotation period. */
  rotateIfDue(): Promise<boolean>;
  /** Deletes keys that have left the JWKS: no token they signed is valid any more, so their private halves need not be kept. */
  pruneUnpublished(): Promise<string[]>;
  /** Refreshes, prunes and rotates-if-due every `refreshSeconds` until stop(). */
  start(): void;
  stop(): void;
}

export interface KeyringOptions {
  readonly db: Db;
  readonly kek: Buffer;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly alg: SigningAlg;
  readonly rotationDays: number;
  readonly tokenTtlMaxSeconds: number;
  readonly publishSeconds: number;
  readonly refreshSeconds: number;
}

/** Verifiers may accept tokens up to this long after `exp` (clock tolerance). */
const VERIFIER_LEEWAY_MS = 60_000;
const DAY_MS = 86_400_000;

async function generate(alg: SigningAlg): Promise<{ privateJwk: JWK; publicJwk: JWK; kid: string }> {
  const options =
    alg === 'EdDSA'
      ? { crv: 'Ed25519', extractable: true }
      : alg === 'ES256'
        ? { extractable: true }
        : { modulusLength: 3072, extractable: true };
  const { privateKey, publicKey } = await generateKeyPair(alg, options);
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported, 'sha256');
  const publicJwk: JWK = { ...exported, kid, alg, use: 'sig' };
  return { privateJwk: { ...(await exportJWK(privateKey)), kid, alg }, publicJwk, kid };
}

export function createKeyring(options: KeyringOptions): Keyring {
  const { db, kek, clock, logger } = options;
  const unpublishDelay = options.tokenTtlMaxSeconds * 1000 + VERIFIER_LEEWAY_MS;
  let rows: SigningKeyRow[] = [];
  const privateKeys = new Map<string, KeyObject>();
  const publicKeys = new Map<string, CryptoKey>();
  let timer: NodeJS.Timeout | undefined;

  // Derived views, recomputed when the rows change or a stored time passes.
  let cache: { signing: ActiveSigningKey | null; jwks: Jwks; published: Set<string>; validUntil: number } | null = null;

  /** A pending key overtaken by a newer rotation (e.g. `rotate --now`) never signs. */
  const supersededBeforeActivation = (row: SigningKeyRow) => row.retires_at !== null && row.retires_at <= row.activates_at;
  const unpublishesAt = (row: SigningKeyRow) => (row.retires_at === null ? null : row.retires_at + unpublishDelay);

  function derive(now: number) {
    const published = rows.filter((r) => {
      const end = unpublishesAt(r);
      return end === null || end > now;
    });
    const active = [...rows].reverse().find((r) => r.activates_at <= now);
    const keys = published.map((r) => JSON.parse(r.public_jwk) as JWK);
    const body = JSON.stringify({ keys });
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const changes = rows
      .flatMap((r) => [r.activates_at, unpublishesAt(r)])
      .filter((t): t is number => t !== null && t > now);
    const signing =
      active && privateKeys.has(active.kid)
        ? { kid: active.kid, alg: active.alg as SigningAlg, privateKey: privateKeys.get(active.kid)! }
        : null;
    cache = {
      signing,
      jwks: { body, etag },
      published: new Set(published.map((r) => r.kid)),
      validUntil: Math.min(Infinity, ...changes),
    };
    return cache;
  }

  function current() {
    const now = clock.now();
    return cache && now < cache.validUntil ? cache : derive(now);
  }

  async function load(next: SigningKeyRow[]) {
    for (const row of next) {
      if (privateKeys.has(row.kid)) continue;
      const jwk = JSON.parse(open(kek, row.private_jwk_enc, `signing key ${row.kid}`)) as JWK;
      privateKeys.set(row.kid, createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }));
      publicKeys.set(row.kid, (await importJWK(JSON.parse(row.public_jwk) as JWK, row.alg)) as CryptoKey);
    }
    for (const kid of privateKeys.keys()) {
      if (!next.some((r) => r.kid === kid)) {
        privateKeys.delete(kid);
        publicKeys.delete(kid);
      }
    }
    rows = next;
    cache = null;
  }

  function info(row: SigningKeyRow, now: number, activeKid: string | undefined): SigningKeyInfo {
    return {
      kid: row.kid,
      alg: row.alg,
      generation: row.generation,
      created_at: row.created_at,
      activates_at: row.activates_at,
      retires_at: row.retires_at,
      unpublishes_at: unpublishesAt(row),
      state: row.kid === activeKid ? 'active' : row.activates_at > now && !supersededBeforeActivation(row) ? 'pending' : 'retired',
    };
  }

  async function addKey(now: number, activatesAt: number): Promise<SigningKeyRow> {
    const { privateJwk, publicJwk, kid } = await generate(options.alg);
    const generation = (rows.at(-1)?.generation ?? 0) + 1;
    const row: SigningKeyRow = {
      kid,
      alg: options.alg,
      public_jwk: JSON.stringify(publicJwk),
      private_jwk_enc: seal(kek, JSON.stringify(privateJwk), `signing key ${kid}`),
      generation,
      created_at: now,
      activates_at: activatesAt,
      retires_at: null,
    };
    await insertSigningKey(db, row);
    logger.info({ kid, alg: options.alg, generation, activates_at: new Date(activatesAt).toISOString() }, 'signing key created');
    return row;
  }

  const keyring: Keyring = {
    async init() {
      await keyring.refresh();
      if (rows.length > 0) return;
      try {
        const now = clock.now();
        await addKey(now, now);
      } catch (error) {
        // Another process created the first key at the same moment: use theirs.
        await keyring.refresh();
        if (rows.length === 0) throw error;
        return;
      }
      await keyring.refresh();
    },

    async refresh() {
      const next = await listSigningKeys(db);
      const unchanged =
        next.length === rows.length && next.every((r, i) => r.kid === rows[i]!.kid && r.retires_at === rows[i]!.retires_at);
      if (!unchanged) await load(next);
    },

    signingKey() {
      const signing = current().signing;
      if (!signing) throw new Error('no signing key is active');
      return signing;
    },

    jwks: () => current().jwks,
    verificationKey: (kid) => (current().published.has(kid) ? publicKeys.get(kid) : undefined),
    ready: () => current().signing !== null,

    list() {
      const now = clock.now();
      const activeKid = current().signing?.kid;
      return rows.map((row) => info(row, now, activeKid));
    },

    async rotate({ immediate = false } = {}) {
      await keyring.refresh();
      const now = clock.now();
      const row = await addKey(now, now + (immediate ? 0 : options.publishSeconds * 1000));
      await keyring.refresh();
      return info(row, now, current().signing?.kid);
    },

    async rotateIfDue() {
      await keyring.refresh();
      const newest = rows.at(-1);
      if (!newest || newest.activates_at + options.rotationDays * DAY_MS > clock.now()) return false;
      try {
        await keyring.rotate();
      } catch (error) {
        await keyring.refresh();
        // Lost the race to another process: its key (a higher generation) is the rotation.
        if (rows.at(-1)?.generation === newest.generation) throw error;
      }
      return true;
    },

    async pruneUnpublished() {
      const now = clock.now();
      const gone = rows.filter((r) => {
        const end = unpublishesAt(r);
        return end !== null && end <= now;
      });
      if (gone.length === 0) return [];
      const kids = gone.map((r) => r.kid);
      await deleteSigningKeys(db, kids);
      logger.info({ kids }, 'deleted signing keys that left the JWKS');
      await keyring.refresh();
      return kids;
    },

    start() {
      if (timer) return;
      timer = setInterval(() => {
        keyring
          .rotateIfDue()
          .then(() => keyring.pruneUnpublished())
          .catch((error: unknown) => logger.error({ err: error }, 'keyring refresh failed'));
      }, options.refreshSeconds * 1000);
      timer.unref();
    },

    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
  return keyring;
}
