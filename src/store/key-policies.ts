// What the key-policy sweeper (domain/key-policies.ts) reads and marks, across every org:
// keys due for automatic revocation as unused, and keys due for a reminder. Each list is
// one page in key-id order (the caller goes on after the last id), of unrevoked keys of
// live apps of enabled orgs. Each mark is a conditional UPDATE that changes a row only
// when its reminder was not sent yet, so two sweepers racing send it once between them.
import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db } from './database.js';

const DAY_MS = 86_400_000;

export interface SweptKey {
  readonly id: string;
  readonly org_id: string;
  readonly app_id: string;
  readonly name: string;
  readonly created_at: number;
  readonly last_used_at: number | null;
  readonly expires_at: number | null;
}

/** A key with an expiry: what the expiry reminders are about. */
export type ExpiringKey = SweptKey & { readonly expires_at: number };

/** A key of an org with auto_revoke_unused_days set, with when it was last used (or, never used, created) and when that policy revokes it. */
export interface IdleKey extends SweptKey {
  readonly unused_days: number;
  readonly idle_since: number;
  readonly revokes_at: number;
}

export interface SweepPage {
  readonly now: number;
  /** Only keys with ids after this one: the previous page's last. */
  readonly afterId: string | null;
  readonly limit: number;
}

const idleSince = sql<number>`coalesce(k.last_used_at, k.created_at)`;
// The days are cast so PostgreSQL multiplies in bigint: 36,500 days in ms overflow an integer.
const revokesAt = sql<number>`(coalesce(k.last_used_at, k.created_at) + cast(o.auto_revoke_unused_days as bigint) * ${sql.lit(DAY_MS)})`;
const bigint = (value: number) => sql<number>`cast(${value} as bigint)`;

function sweptKeys(db: Db, page: SweepPage) {
  let query = db
    .selectFrom('api_keys as k')
    .innerJoin('apps as a', 'a.id', 'k.app_id')
    .innerJoin('orgs as o', 'o.id', 'k.org_id')
    .select(['k.id', 'k.org_id', 'k.app_id', 'k.name', 'k.created_at', 'k.last_used_at', 'k.expires_at'])
    .where('k.revoked_at', 'is', null)
    .where('a.deleted_at', 'is', null)
    .where('o.disabled_at', 'is', null);
  if (page.afterId !== null) query = query.where('k.id', '>', page.afterId);
  return query.orderBy('k.id').limit(page.limit);
}

function idleKeys(db: Db, page: SweepPage) {
  return sweptKeys(db, page)
    .select(['o.auto_revoke_unused_days as unused_days', idleSince.as('idle_since'), revokesAt.as('revokes_at')])
    .where('o.auto_revoke_unused_days', 'is not', null)
    .where((eb) => eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', page.now)]));
}

type IdleRow = SweptKey & { unused_days: number | null; idle_since: number; revokes_at: number };
const toIdleKey = (row: IdleRow): IdleKey => ({ ...row, unused_days: Number(row.unused_days), idle_since: Number(row.idle_since), revokes_at: Number(row.revokes_at) });

/** Active keys unused for at least their org's auto_revoke_unused_days at `now`. */
export async function listUnusedKeys(db: Db, page: SweepPage): Promise<IdleKey[]> {
  const rows = await idleKeys(db, page).where(sql<SqlBool>`${revokesAt} <= ${bigint(page.now)}`).execute();
  return rows.map(toIdleKey);
}

/** Inside the revoking transaction: the key is still active and unused that long (not used, its policy not changed, meanwhile). */
export async function isStillUnused(db: Db, keyId: string, now: number): Promise<boolean> {
  const row = await idleKeys(db, { now, afterId: null, limit: 1 })
    .where('k.id', '=', keyId)
    .where(sql<SqlBool>`${revokesAt} <= ${bigint(now)}`)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Active keys the policy revokes within `windowMs` of `now` (not yet), not warned about in
 * this idle stretch (a warning before the key's last use is an old one), and not expiring
 * before then anyway.
 */
export async function listKeysSoonUnused(db: Db, page: SweepPage & { windowMs: number }): Promise<IdleKey[]> {
  const rows = await idleKeys(db, page)
    .where(sql<SqlBool>`${revokesAt} > ${bigint(page.now)}`)
    .where(sql<SqlBool>`${revokesAt} <= ${bigint(page.now + page.windowMs)}`)
    .where((eb) => eb.or([eb('k.expires_at', 'is', null), eb('k.expires_at', '>', revokesAt as Expression<number>)]))
    .where((eb) => eb.or([eb('k.unused_notified_at', 'is', null), eb('k.unused_notified_at', '<', idleSince as Expression<number>)]))
    .execute();
  return rows.map(toIdleKey);
}

/** Marks the warning of the idle stretch that began at `idleSince` sent; false when it was already, or the key was used or revoked meanwhile. */
export async function markUnusedWarned(db: Db, mark: { keyId: string; at: number; idleSince: number }): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ unused_notified_at: mark.at })
    .where('id', '=', mark.keyId)
    .where('revoked_at', 'is', null)
    .where(sql<SqlBool>`coalesce(last_used_at, created_at) = ${bigint(mark.idleSince)}`)
    .where((eb) => eb.or([eb('unused_notified_at', 'is', null), eb('unused_notified_at', '<', mark.idleSince)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Keys expiring within `windowMs` of `now` whose reminder is not sent yet: never, or before
 * the current expiry came within the window (an expiry moved later reminds again; one
 * moved earlier, by a roll, does not).
 */
export async function listExpiringKeys(db: Db, page: SweepPage & { windowMs: number }): Promise<ExpiringKey[]> {
  return sweptKeys(db, page)
    .$narrowType<{ expires_at: number }>()
    .where('k.expires_at', '>', page.now)
    .where('k.expires_at', '<=', page.now + page.windowMs)
    .where((eb) =>
      eb.or([eb('k.expiring_notified_at', 'is', null), eb('k.expiring_notified_at', '<', sql<number>`k.expires_at - ${bigint(page.windowMs)}`)]),
    )
    .execute();
}

/** Marks the reminder of the expiry `expiresAt` sent; false when it was already, or the key changed meanwhile. */
export async function markExpiringNotified(db: Db, mark: { keyId: string; at: number; expiresAt: number; windowMs: number }): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ expiring_notified_at: mark.at })
    .where('id', '=', mark.keyId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '=', mark.expiresAt)
    .where((eb) => eb.or([eb('expiring_notified_at', 'is', null), eb('expiring_notified_at', '<', mark.expiresAt - mark.windowMs)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Unrevoked keys that expired within `lookbackMs` before `now` and were not reported expired yet. */
export async function listExpiredKeys(db: Db, page: SweepPage & { lookbackMs: number }): Promise<ExpiringKey[]> {
  return sweptKeys(db, page)
    .$narrowType<{ expires_at: number }>()
    .where('k.expires_at', '<=', page.now)
    .where('k.expires_at', '>', page.now - page.lookbackMs)
    .where('k.expired_notified_at', 'is', null)
    .execute();
}

/** Marks the key reported expired; false when it was already, or was revoked meanwhile. */
export async function markExpiredNotified(db: Db, mark: { keyId: string; at: number }): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ expired_notified_at: mark.at })
    .where('id', '=', mark.keyId)
    .where('revoked_at', 'is', null)
    .where('expired_notified_at', 'is', null)
    .where('expires_at', '<=', mark.at)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
