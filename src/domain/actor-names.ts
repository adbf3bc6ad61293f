// The names behind the actor ids that objects record (created_by, revoked_by, an audit
// event's actor): a person's name for `usr_…`, a key's name for `key_…`, and `cli`, `system`
// and `anonymous` as they are. Resolved when read, so a rename shows everywhere, and for a
// whole page at once: one query, not one per row. A deleted person or key has no name (null).
import type { Db } from '../store/database.js';

export type ActorNames = (id: string | null) => string | null;

const AS_IS = new Set(['cli', 'system', 'anonymous']);

/** The names that need no lookup (`cli`, `system`, `anonymous`); null for any other id. */
export const namesAsIs: ActorNames = (id) => (id !== null && AS_IS.has(id) ? id : null);

export async function actorNames(db: Db, ids: Iterable<string | null>): Promise<ActorNames> {
  const users = new Set<string>();
  const keys = new Set<string>();
  for (const id of ids) {
    if (id?.startsWith('usr_')) users.add(id);
    else if (id?.startsWith('key_')) keys.add(id);
  }
  const people = users.size === 0 ? null : db.selectFrom('users').select(['id', 'name']).where('id', 'in', [...users]);
  const apiKeys = keys.size === 0 ? null : db.selectFrom('api_keys').select(['id', 'name']).where('id', 'in', [...keys]);
  const query = people && apiKeys ? people.unionAll(apiKeys) : (people ?? apiKeys);
  const names = new Map((query === null ? [] : await query.execute()).map((row) => [row.id, row.name] as const));
  return (id) => (id === null ? null : AS_IS.has(id) ? id : (names.get(id) ?? null));
}
