// The signing keys for the root org's owners (admin.orgs:full, as for organizations): the
// list the CLI's `signing-keys list` shows, and a rotation as `signing-keys rotate [--now]`
// makes it, through the same keyring. The operator CLI calls the keyring itself; a person
// comes through here, so the scope is checked by requireRootAdmin as every org use case
// checks it, and the rotation is in the audit log with who made it.
import { ConflictError } from '../errors.js';
import type { Actor, AdminDeps } from './actor.js';
import { recordActorAudit } from './audit.js';
import { RotationConflictError, type Keyring, type Rotation, type SigningKeyInfo } from './keyring.js';
import { requireRootAdmin } from './orgs.js';

export type SigningKeyDeps = Pick<AdminDeps, 'db' | 'clock'> & { readonly keyring: Pick<Keyring, 'list' | 'rotate'> };

/** Newest first. */
export async function listSigningKeys(deps: SigningKeyDeps, actor: Actor): Promise<SigningKeyInfo[]> {
  await requireRootAdmin(deps, actor);
  return [...deps.keyring.list()].reverse();
}

export async function rotateSigningKeys(deps: SigningKeyDeps, actor: Actor, input: { immediate: boolean }): Promise<Rotation> {
  await requireRootAdmin(deps, actor);
  let rotation: Rotation;
  try {
    rotation = await deps.keyring.rotate({ immediate: input.immediate });
  } catch (error) {
    if (error instanceof RotationConflictError) throw new ConflictError(error.message);
    throw error;
  }
  await recordActorAudit(deps.db, deps.clock, actor, {
    action: 'signing_keys.rotated',
    targetType: 'signing_key',
    targetId: rotation.activated.kid,
    details: { immediate: input.immediate, activates_at: rotation.activated.activates_at, previous: rotation.previous?.kid ?? null, standby: rotation.standby.kid },
  });
  return rotation;
}
