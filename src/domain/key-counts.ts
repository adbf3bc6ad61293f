// How many keys each app has, for a page of apps: one query for the whole page.
import * as keysStore from '../store/api-keys.js';
import { requireActorScope, type Actor, type AdminDeps } from './actor.js';

export interface KeyCount {
  readonly total: number;
  /** Neither revoked nor expired. */
  readonly active: number;
}

/** The key counts of apps of the actor's org (an app of another org counts no key). */
export async function countAppKeys(deps: Pick<AdminDeps, 'db' | 'clock'>, actor: Actor, appIds: readonly string[]): Promise<(appId: string) => KeyCount> {
  requireActorScope(actor, 'admin.apps:view');
  const counts = await keysStore.countKeysByApp(deps.db, actor.orgId, appIds, deps.clock.now());
  return (appId) => counts.get(appId) ?? { total: 0, active: 0 };
}
