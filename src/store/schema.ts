// Table types. Times are integer epoch milliseconds; JSON columns are text.
export interface OrgsTable {
  id: string;
  name: string;
  /** 1 for the root org created at bootstrap (at most one row, by a partial unique index). */
  is_root: number;
  created_at: number;
  created_by: string;
  /** JSON array of the catalogue scopes its apps may be granted; null: every non-admin scope (see domain/allowances.ts). */
  allowed_scopes: string | null;
  /** Set while the org is disabled: its keys exchange nothing and its admin tokens are refused. */
  disabled_at: number | null;
}

export interface AppsTable {
  id: string;
  org_id: string;
  name: string;
  description: string;
  /** JSON array of granted scope names. */
  scopes: string;
  audience: string | null;
  token_ttl_seconds: number | null;
  created_at: number;
  created_by: string;
  updated_at: number;
  /** Deleted apps stay as tombstones so a refused exchange can name the reason; every read filters them. */
  deleted_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  org_id: string;
  app_id: string;
  name: string;
  /** argon2id PHC string. */
  secret_hash: string;
  secret_hint: string;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  revoked_at: number | null;
  revoked_by: string | null;
  revoke_reason: string | null;
  last_used_at: number | null;
  last_used_ip: string | null;
  use_count: number;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** JSON of the public JWK. */
  public_jwk: string;
  /** The private JWK, AES-256-GCM under the KEK (see domain/kek.ts). */
  private_jwk_enc: string;
  /** 1, 2, 3…; unique, so two processes rotating at once cannot both succeed. */
  generation: number;
  created_at: number;
  /** From here on the key signs (it is published from created_at). */
  activates_at: number;
  /** From here on the key no longer signs; it stays published until every token it signed has expired. */
  retires_at: number | null;
}

export interface AuditEventsTable {
  id: string;
  /** No foreign key: events outlive the apps, keys and orgs they name. */
  org_id: string;
  at: number;
  actor: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  /** JSON object. */
  details: string;
}

export interface ThrottleCountersTable {
  /** `ip:<subject>` or `key:<subject>|<key id>`; see domain/throttle.ts. */
  key: string;
  /** When the row's one-minute window ends; a row whose window ended counts as absent. */
  ends_at: number;
  /** Attempts of the window counted and not given back: being checked, or failed. */
  count: number;
  /** Attempts of the window that failed. */
  failures: number;
}

export interface Database {
  orgs: OrgsTable;
  apps: AppsTable;
  api_keys: ApiKeysTable;
  signing_keys: SigningKeysTable;
  audit_events: AuditEventsTable;
  throttle_counters: ThrottleCountersTable;
}
