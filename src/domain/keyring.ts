// Signing keys: the JWKS and the rotation lifecycle.
//
// Every state is derived from stored times, so all processes sharing a database agree:
//   standby    generated and published, no activation time yet: the next rotation's key
//   published  from created_at until retires_at + token TTL max + leeway (or forever if not retiring)
//   signing    the highest generation whose activates_at has passed
// The standby is published a rotation ahead, so every instance and every downstream JWKS
// cache knows it before it signs. A rotation activates it (once it has been published for
// the JWKS max-age, or at once with `immediate`), schedules the previous keys to retire when
// it starts signing, and generates the next standby. Writers notify the other instances on
// PostgreSQL (a ChangeFeed), and each instance re-reads every `refreshSeconds` as well.
import type { CryptoKey } from 'jose';
import type { Logger } from 'pino';
import type { SigningAlg } from '../config.js';
import type { ChangeFeed } from '../store/change-feed.js';
import type { Db } from '../store/database.js';
import {
  deleteSigningKeys,
  insertMissingSigningKeys,
  isStandby,
  listSigningKeys,
  rotateSigningKeys,
  type SigningKeyRow,
} from '../store/signing-keys.js';
import type { Clock } from './clock.js';
import { createKeyringReads } from './keyring-reads.js';
import { deriveView, stateOf, unpublishesAt, type ActiveSigningKey, type Jwks, type KeyringView, type SigningKeyState } from './keyring-view.js';
import { generateSigningKey, openSigningKey, type OpenedSigningKey } from './signing-key-material.js';

export type { ActiveSigningKey, Jwks, SigningKeyState } from './keyring-view.js';

export interface SigningKeyInfo {
  readonly kid: string;
  readonly alg: string;
  readonly generation: number;
  readonly created_at: number;
  /** When it starts signing; null for the standby (the next rotation decides). */
  readonly activates_at: number | null;
  readonly retires_at: number | null;
  /** When it leaves the JWKS (null while it has no retirement scheduled). */
  readonly unpublishes_at: number | null;
  readonly state: SigningKeyState;
}

export interface Rotation {
  /** The key that signs from `activated.activates_at` on. */
  readonly activated: SigningKeyInfo;
  /** The new standby, published from now on; the next rotation activates it. */
  readonly standby: SigningKeyInfo;
  /** The key that signed until this rotation; it stops when `activated` starts. */
  readonly previous: SigningKeyInfo | null;
  /** The kid of the standby that `replaceStandby` deleted (it never signed). */
  readonly discardedStandby: string | null;
}

/** Another process rotated between this keyring's read of the keys and its rotation; nothing was changed. */
export class RotationConflictError extends Error {
  override name = 'RotationConflictError';
  constructor() {
    super('another rotation of the signing keys happened at the same moment; nothing was changed');
  }
}

export interface Keyring {
  /** Loads the stored keys; creates the first key and a standby when they are missing. */
  init(): Promise<void>;
  /** Re-reads the stored keys (other processes may have rotated). */
  refresh(): Promise<void>;
  /** The key to sign with now; throws when none is loaded (readiness reports that). */
  signingKey(): ActiveSigningKey;
  jwks(): Jwks;
  /** The public key of a published signing key, for verifying this server's own tokens. */
  verificationKey(kid: string): CryptoKey | undefined;
  /**
   * verificationKey(), but a kid this instance does not know is looked up again after a
   * re-read of the keys (another instance may have just rotated and the notification not
   * arrived yet). Re-reads start at most once a second; concurrent callers share one.
   */
  resolveVerificationKey(kid: string): Promise<CryptoKey | undefined>;
  ready(): boolean;
  list(): SigningKeyInfo[];
  /**
   * Activates the standby — once it has been published for the publish delay (at once with
   * `immediate`) — and adds the next standby. `replaceStandby` deletes the standby instead
   * and activates a fresh key at once. Works from the keys as last read: RotationConflictError
   * when another process rotated since.
   */
  rotate(options?: { immediate?: boolean; replaceStandby?: boolean }): Promise<Rotation>;
  /** Rotates when the newest key started signing a rotation period ago; true when a rotation happened, here or in another process. */
  rotateIfDue(): Promise<boolean>;
  /** Deletes keys that have left the JWKS: no token they signed is valid any more, so their private halves need not be kept. */
  pruneUnpublished(): Promise<string[]>;
  /** Re-reads on every change notification, and refreshes, prunes and rotates-if-due every `refreshSeconds`, until stop(). */
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
  /** Notifications of other processes' changes (PostgreSQL); without it, only the periodic re-read. */
  readonly changes?: ChangeFeed;
}

/** Verifiers may accept tokens up to this long after `exp` (clock tolerance). */
const VERIFIER_LEEWAY_MS = 60_000;
const DAY_MS = 86_400_000;
/** The least time between two re-reads for an unknown kid: a stream of junk kids costs one read a second. */
const UNKNOWN_KID_READ_INTERVAL_MS = 1000;

export function createKeyring(options: KeyringOptions): Keyring {
  const { db, kek, clock, logger } = options;
  const unpublishDelay = options.tokenTtlMaxSeconds * 1000 + VERIFIER_LEEWAY_MS;
  const publishDelay = options.publishSeconds * 1000;
  let rows: SigningKeyRow[] = [];
  const opened = new Map<string, OpenedSigningKey>();
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  // The view, recomputed when the rows change or a stored time passes.
  let cache: KeyringView | null = null;
  function current(): KeyringView {
    const now = clock.now();
    if (!cache || now >= cache.validUntil) cache = deriveView(rows, opened, now, unpublishDelay);
    return cache;
  }

  // Re-reads may overlap (a notification, the timer, an unknown kid): the one that started
  // last wins, even if an earlier one finishes opening its keys after it.
  let readsStarted = 0;
  let readApplied = 0;
  async function load(next: SigningKeyRow[], read: number) {
    const fresh = new Map<string, OpenedSigningKey>();
    for (const row of next) if (!opened.has(row.kid)) fresh.set(row.kid, await openSigningKey(kek, row));
    if (read < readApplied) return;
    readApplied = read;
    for (const [kid, key] of fresh) opened.set(kid, key);
    for (const kid of opened.keys()) if (!next.some((r) => r.kid === kid)) opened.delete(kid);
    rows = next;
    cache = null;
  }

  function info(row: SigningKeyRow): SigningKeyInfo {
    return {
      kid: row.kid,
      alg: row.alg,
      generation: row.generation,
      created_at: row.created_at,
      activates_at: row.activates_at,
      retires_at: row.retires_at,
      unpublishes_at: unpublishesAt(row, unpublishDelay),
      state: stateOf(row, clock.now(), current().signing?.kid),
    };
  }

  function infoOf(kid: string): SigningKeyInfo {
    const row = rows.find((r) => r.kid === kid);
    if (!row) throw new Error(`signing key ${kid} is not stored`);
    return info(row);
  }

  /** Creates the first key (on an empty table) and a standby, where missing; keeps what another process created. */
  async function ensureKeys() {
    if (rows.length > 0 && rows.some(isStandby)) return;
    const now = clock.now();
    const [first, standby] = await Promise.all([rows.length === 0 ? generateSigningKey(options.alg, kek, now) : null, generateSigningKey(options.alg, kek, now)]);
    if (await insertMissingSigningKeys(db, { first, standby, now })) {
      logger.info({ ...(first ? { kid: first.kid } : {}), standby: standby.kid, alg: options.alg }, first ? 'created the first signing key and a standby' : 'created a standby signing key');
    }
    await keyring.refresh();
  }

  const keyring: Keyring = {
    async init() {
      await keyring.refresh();
      await ensureKeys();
    },

    async refresh() {
      const read = ++readsStarted;
      const next = await listSigningKeys(db);
      const unchanged =
        next.length === rows.length &&
        next.every((r, i) => r.kid === rows[i]!.kid && r.activates_at === rows[i]!.activates_at && r.retires_at === rows[i]!.retires_at);
      if (unchanged) readApplied = Math.max(readApplied, read);
      else await load(next, read);
    },

    signingKey() {
      const signing = current().signing;
      if (!signing) throw new Error('no signing key is active');
      return signing;
    },

    jwks: () => current().jwks,
    verificationKey: (kid) => (current().published.has(kid) ? opened.get(kid)?.publicKey : undefined),

    async resolveVerificationKey(kid) {
      const known = keyring.verificationKey(kid);
      if (known) return known;
      await reads.fresh();
      return keyring.verificationKey(kid);
    },

    ready: () => current().signing !== null,
    list: () => rows.map(info),

    async rotate({ immediate = false, replaceStandby = false } = {}) {
      if (!rows.some(isStandby)) await ensureKeys();
      const standby = rows.find(isStandby);
      if (!standby) throw new RotationConflictError();
      const previous = current().signing?.kid ?? null;
      const now = clock.now();
      const activatesAt = immediate || replaceStandby ? now : Math.max(now, standby.created_at + publishDelay);
      const [replacement, nextStandby] = await Promise.all([
        replaceStandby ? generateSigningKey(options.alg, kek, now) : null,
        generateSigningKey(options.alg, kek, now),
      ]);
      const rotated = await rotateSigningKeys(db, { standbyKid: standby.kid, activatesAt, replacement, nextStandby });
      await keyring.refresh();
      if (!rotated) throw new RotationConflictError();
      const activated = replacement?.kid ?? standby.kid;
      logger.info(
        { kid: activated, activates_at: new Date(activatesAt).toISOString(), standby: nextStandby.kid, ...(replacement ? { discarded_standby: standby.kid } : {}) },
        'rotated the signing keys',
      );
      return {
        activated: infoOf(activated),
        standby: infoOf(nextStandby.kid),
        previous: previous === null ? null : infoOf(previous),
        discardedStandby: replacement ? standby.kid : null,
      };
    },

    async rotateIfDue() {
      await keyring.refresh();
      await ensureKeys();
      const newestStart = [...rows].reverse().find((r) => r.activates_at !== null)?.activates_at ?? null;
      if (newestStart !== null && newestStart + options.rotationDays * DAY_MS > clock.now()) return false;
      try {
        await keyring.rotate();
      } catch (error) {
        // Lost the race to another process: its rotation is the one that was due.
        if (!(error instanceof RotationConflictError)) throw error;
      }
      return true;
    },

    async pruneUnpublished() {
      const now = clock.now();
      const gone = rows.filter((r) => {
        const end = unpublishesAt(r, unpublishDelay);
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
      unsubscribe = options.changes?.subscribe('signing_keys', reads.soon);
      // What changed between init() and the subscription.
      reads.soon();
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
      unsubscribe?.();
      unsubscribe = undefined;
    },
  };
  const reads = createKeyringReads(() => keyring.refresh(), logger, UNKNOWN_KID_READ_INTERVAL_MS);
  return keyring;
}
