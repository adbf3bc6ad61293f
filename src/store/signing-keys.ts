// The signing keys table. Every write runs in one serialized transaction that re-reads the
// keys, decides against what it read, and notifies the other processes at commit.
import { notifyChange } from './change-feed.js';
import type { Db } from './database.js';
import type { SigningKeysTable } from './schema.js';
import { serializedTransaction } from './serialized-transaction.js';

/** A stored key; `activates_at` is null for the standby, which signs from the next rotation on. */
export interface SigningKeyRow extends Omit<SigningKeysTable, 'activates_at'> {
  activates_at: number | null;
}

/** A key just generated, before it has a place in the sequence. */
export type NewSigningKey = Pick<SigningKeyRow, 'kid' | 'alg' | 'public_jwk' | 'private_jwk_enc' | 'created_at'>;

/**
 * How the NOT NULL `activates_at` column stores "not scheduled" (the standby): the latest time
 * a JavaScript Date can hold. A server of the previous version, which knows no standby, reads
 * it as a key that signs in the far future: it publishes it and never signs with it.
 */
const NOT_SCHEDULED = 8_640_000_000_000_000;

/** The standby: generated and published, waiting for the next rotation to make it sign. */
export const isStandby = (row: SigningKeyRow) => row.activates_at === null && row.retires_at === null;

export async function listSigningKeys(db: Db): Promise<SigningKeyRow[]> {
  const rows = await db.selectFrom('signing_keys').selectAll().orderBy('generation', 'asc').execute();
  return rows.map((row) => ({ ...row, activates_at: row.activates_at === NOT_SCHEDULED ? null : row.activates_at }));
}

async function insert(trx: Db, key: NewSigningKey, generation: number, activatesAt: number | null): Promise<void> {
  await trx
    .insertInto('signing_keys')
    .values({ ...key, generation, activates_at: activatesAt ?? NOT_SCHEDULED, retires_at: null })
    .execute();
}

const newestGeneration = (rows: readonly SigningKeyRow[]) => rows.at(-1)?.generation ?? 0;

/**
 * Creates what is missing: on an empty table `first`, signing from `now`; and a standby when
 * there is none (a database from before standbys gains one this way). What another process
 * created meanwhile is kept, and the keys offered for it are dropped. True when it inserted.
 */
export async function insertMissingSigningKeys(
  db: Db,
  keys: { readonly first: NewSigningKey | null; readonly standby: NewSigningKey; readonly now: number },
): Promise<boolean> {
  return serializedTransaction(db, 'signing_keys', async (trx) => {
    const rows = await listSigningKeys(trx);
    let generation = newestGeneration(rows);
    const first = rows.length === 0 ? keys.first : null;
    const addFirst = first !== null;
    if (first) await insert(trx, first, ++generation, keys.now);
    const addStandby = (addFirst || rows.length > 0) && !rows.some(isStandby);
    if (addStandby) await insert(trx, keys.standby, ++generation, null);
    if (addFirst || addStandby) await notifyChange(trx, 'signing_keys');
    return addFirst || addStandby;
  });
}

export interface RotationPlan {
  /** The standby as the caller last read it: the rotation happens only while it still is. */
  readonly standbyKid: string;
  /** When the newly active key starts signing and every older key stops. */
  readonly activatesAt: number;
  /** A fresh key to activate instead of the standby, which is deleted (it never signed). */
  readonly replacement: NewSigningKey | null;
  readonly nextStandby: NewSigningKey;
}

/**
 * Activates the standby (or `replacement`) at `activatesAt`, schedules every older key to
 * retire then (or keeps an earlier retirement), and adds `nextStandby`. False, changing
 * nothing, when the standby is no longer `plan.standbyKid`: another rotation came first.
 */
export async function rotateSigningKeys(db: Db, plan: RotationPlan): Promise<boolean> {
  return serializedTransaction(db, 'signing_keys', async (trx) => {
    const rows = await listSigningKeys(trx);
    const standby = rows.find(isStandby);
    if (standby?.kid !== plan.standbyKid) return false;
    let generation = newestGeneration(rows);
    let activated = standby.generation;
    if (plan.replacement) {
      await trx.deleteFrom('signing_keys').where('kid', '=', standby.kid).execute();
      activated = ++generation;
      await insert(trx, plan.replacement, activated, plan.activatesAt);
    } else {
      await trx.updateTable('signing_keys').set({ activates_at: plan.activatesAt }).where('kid', '=', standby.kid).execute();
    }
    await trx
      .updateTable('signing_keys')
      .set({ retires_at: plan.activatesAt })
      .where('generation', '<', activated)
      .where((eb) => eb.or([eb('retires_at', 'is', null), eb('retires_at', '>', plan.activatesAt)]))
      .execute();
    await insert(trx, plan.nextStandby, ++generation, null);
    await notifyChange(trx, 'signing_keys');
    return true;
  });
}

export async function deleteSigningKeys(db: Db, kids: readonly string[]): Promise<void> {
  if (kids.length === 0) return;
  await db.deleteFrom('signing_keys').where('kid', 'in', kids).execute();
}
