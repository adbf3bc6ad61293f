// Rows as the store takes them, with neutral defaults, for tests that seed a database
// directly (below the admin API). Override what a test is about.
import { newId } from '../../src/domain/credentials.js';
import type { SecretHasher } from '../../src/domain/hashing.js';
import { prepareKey } from '../../src/domain/keys.js';
import type { SecretDigest } from '../../src/domain/secret-digest.js';
import { insertApiKey, type ApiKeyRow } from '../../src/store/api-keys.js';
import { insertApp, type AppRecord } from '../../src/store/apps.js';
import type { Db } from '../../src/store/database.js';
import type { OrgRow } from '../../src/store/orgs.js';

export function orgRow(at: number, overrides: Partial<OrgRow> = {}): OrgRow {
  return { id: newId('org', at), name: 'acme', is_root: 0, created_at: at, created_by: 'system', allowed_scopes: null, disabled_at: null, require_mfa: 0, auto_revoke_unused_days: null, ...overrides };
}

export function appRow(orgId: string, at: number, overrides: Partial<AppRecord> = {}): AppRecord {
  return {
    id: newId('app', at),
    org_id: orgId,
    name: 'test app',
    description: '',
    scopes: [],
    audience: null,
    token_ttl_seconds: null,
    created_at: at,
    created_by: 'system',
    updated_at: at,
    deleted_at: null,
    allowed_ips: null,
    ...overrides,
  };
}

/** A key row with a placeholder hash: for store tests that never verify a secret. */
export function keyRow(orgId: string, appId: string, at: number, overrides: Partial<ApiKeyRow> = {}): ApiKeyRow {
  return {
    id: newId('key', at),
    org_id: orgId,
    app_id: appId,
    name: 'test key',
    secret_hash: '$argon2id$v=19$m=1024,p=1,t=1$c2FsdA$aGFzaA',
    secret_hint: 'wxyz',
    created_at: at,
    created_by: 'system',
    expires_at: null,
    revoked_at: null,
    revoked_by: null,
    revoke_reason: null,
    last_used_at: null,
    last_used_ip: null,
    use_count: 0,
    scopes: null,
    allowed_ips: null,
    secret_digest: null,
    expiring_notified_at: null,
    expired_notified_at: null,
    unused_notified_at: null,
    ...overrides,
  };
}

export interface SeedDeps {
  readonly db: Db;
  readonly hasher: SecretHasher;
  readonly secretDigest: SecretDigest;
  readonly clock: { now(): number };
}

/** Stores an app with `scopes` and one key with a real secret on it. */
export async function seedClient(
  deps: SeedDeps,
  orgId: string,
  scopes: string[],
  options: { app?: Partial<AppRecord>; expiresAt?: number | null; keyName?: string } = {},
): Promise<{ app: AppRecord; key: ApiKeyRow; secret: string }> {
  const now = deps.clock.now();
  const app = appRow(orgId, now, { scopes, ...options.app });
  await insertApp(deps.db, app);
  const { row: key, secret } = await prepareKey(deps, now, {
    orgId,
    appId: app.id,
    name: options.keyName ?? 'test key',
    expiresAt: options.expiresAt ?? null,
    actor: 'system',
  });
  await insertApiKey(deps.db, key);
  return { app, key, secret };
}
