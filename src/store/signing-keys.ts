import type { Db } from './database.js';
import type { SigningKeysTable } from './schema.js';

export type SigningKeyRow = SigningKeysTable;

export async function listSigningKeys(db: Db): Promise<SigningKeyRow[]> {
  return db.selectFrom('signing_keys').selectAll().orderBy('generation', 'asc').execute();
}

/**
 * Adds the next generation and schedules every older key to retire when it activates (or
 * earlier, if one was already due to retire sooner). A key that was still pending and is
 * superseded this way never signs. The unique generation makes a concurrent
 * rotation by another process fail instead of producing two successors.
 */
export async function insertSigningKey(db: Db, row: SigningKeyRow): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('signing_keys').values(row).execute();
    await trx
      .updateTable('signing_keys')
      .set({ retires_at: row.activates_at })
      .where('generation', '<', row.generation)
      .where((eb) => eb.or([eb('retires_at', 'is', null), eb('retires_at', '>', row.activates_at)]))
      .execute();
  });
}

export async function deleteSigningKeys(db: Db, kids: readonly string[]): Promise<void> {
  if (kids.length === 0) return;
  await db.deleteFrom('signing_keys').where('kid', 'in', kids).execute();
}
