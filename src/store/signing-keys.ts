import type { Db } from './database.js';
import type { SigningKeysTable } from './schema.js';

export type SigningKeyRow = SigningKeysTable;

export async function listSigningKeys(db: Db): Promise<SigningKeyRow[]> {
  return db.selectFrom('signing_keys').selectAll().orderBy('generation', 'asc').execute();
}

/**
 * Adds the next generation and schedules every key that has not yet been given a
 * retirement to retire when it activates. The unique generation makes a concurrent
 * rotation by another process fail instead of producing two successors.
 */
export async function insertSigningKey(db: Db, row: SigningKeyRow): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('signing_keys').values(row).execute();
    await trx
      .updateTable('signing_keys')
      .set({ retires_at: row.activates_at })
      .where('generation', '<', row.generation)
      .where('retires_at', 'is', null)
      .execute();
  });
}

export async function deleteSigningKeys(db: Db, kids: readonly string[]): Promise<void> {
  if (kids.length === 0) return;
  await db.deleteFrom('signing_keys').where('kid', 'in', kids).execute();
}
