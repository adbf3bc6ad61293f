// Leases: which instance runs a named background job right now. A lease is taken when it is
// absent or has run out, and renewed by its holder; the holder's own clock sets its end, so
// instances only need clocks that agree to within a fraction of the lease.
import type { Db } from './database.js';

/**
 * Takes or renews the lease `name` for `holder` until `expiresAt`; true when `holder` holds
 * it now. One statement, so two instances racing for a free lease cannot both win.
 */
export async function takeLease(db: Db, lease: { name: string; holder: string; now: number; expiresAt: number }): Promise<boolean> {
  const row = await db
    .insertInto('leases')
    .values({ name: lease.name, holder: lease.holder, expires_at: lease.expiresAt })
    .onConflict((conflict) =>
      conflict
        .column('name')
        .doUpdateSet({ holder: lease.holder, expires_at: lease.expiresAt })
        .where((eb) => eb.or([eb('leases.expires_at', '<=', lease.now), eb('leases.holder', '=', lease.holder)])),
    )
    .returning('holder')
    .executeTakeFirst();
  return row?.holder === lease.holder;
}

/** Gives the lease up (when `holder` has it), so another instance takes over without waiting for it to run out. */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await db.deleteFrom('leases').where('name', '=', name).where('holder', '=', holder).execute();
}

/** Who holds the lease and until when, or undefined: for tests and the operator. */
export async function getLease(db: Db, name: string): Promise<{ holder: string; expires_at: number } | undefined> {
  return db.selectFrom('leases').select(['holder', 'expires_at']).where('name', '=', name).executeTakeFirst();
}
