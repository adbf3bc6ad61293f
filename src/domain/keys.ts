// Issuing API keys: the secret is returned to the caller once and stored only as a hash.
import type { ApiKeyRow } from '../store/api-keys.js';
import { generateSecret, newId, secretHint } from './credentials.js';
import type { SecretHasher } from './hashing.js';

export interface NewKey {
  readonly orgId: string;
  readonly appId: string;
  readonly name: string;
  readonly expiresAt: number | null;
  readonly actor: string;
}

/** Builds the row of a new key (hashing its secret) without storing it, so callers can insert it in their transaction. */
export async function prepareKey(hasher: SecretHasher, nowMs: number, input: NewKey): Promise<{ row: ApiKeyRow; secret: string }> {
  const secret = generateSecret();
  const row: ApiKeyRow = {
    id: newId('key', nowMs),
    org_id: input.orgId,
    app_id: input.appId,
    name: input.name,
    secret_hash: await hasher.hash(secret),
    secret_hint: secretHint(secret),
    created_at: nowMs,
    created_by: input.actor,
    expires_at: input.expiresAt,
    revoked_at: null,
    revoked_by: null,
    revoke_reason: null,
    last_used_at: null,
    last_used_ip: null,
    use_count: 0,
  };
  return { row, secret };
}

