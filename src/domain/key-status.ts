// A key's status is computed whenever it is read, never stored: an expiry passes without
// anyone writing to the database.
import type { ApiKeyView } from '../store/api-keys.js';
import type { ActorNames } from './actor-names.js';

export const KEY_STATUSES = ['active', 'revoked', 'expired'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

export function keyStatus(key: Pick<ApiKeyView, 'revoked_at' | 'expires_at'>, now: number): KeyStatus {
  if (key.revoked_at !== null) return 'revoked';
  if (key.expires_at !== null && key.expires_at <= now) return 'expired';
  return 'active';
}

/** A key as the admin API and CLI show it: no secret, no hash, its status as of `now`, and who made and revoked it, by name. */
export interface KeyView extends ApiKeyView {
  readonly status: KeyStatus;
  readonly created_by_name: string | null;
  readonly revoked_by_name: string | null;
}

/** `key` as read for admins; a row just inserted goes through the store's toApiKeyView first. */
export function toKeyView(key: ApiKeyView, now: number, names: ActorNames): KeyView {
  const { id, org_id, app_id, name, secret_hint, created_at, created_by, expires_at, revoked_at, revoked_by, revoke_reason } = key;
  const { last_used_at, last_used_ip, use_count } = key;
  // Listed field by field so that a row carrying more (say, the hash) cannot leak through.
  return {
    id,
    org_id,
    app_id,
    name,
    status: keyStatus(key, now),
    secret_hint,
    created_at,
    created_by,
    created_by_name: names(created_by),
    expires_at,
    revoked_at,
    revoked_by,
    revoked_by_name: names(revoked_by),
    revoke_reason,
    last_used_at,
    last_used_ip,
    use_count,
    scopes: key.scopes,
    allowed_ips: key.allowed_ips,
  };
}
