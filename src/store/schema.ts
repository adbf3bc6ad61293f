// Table types. Times are integer epoch milliseconds; JSON columns are text.
import type { Generated } from 'kysely';

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
  /** 1: its people must have a second factor (used by the second factor; 0 until then). */
  require_mfa: Generated<number>;
  /** Active keys unused (or never used) for this many days are revoked by the server; null: off. */
  auto_revoke_unused_days: number | null;
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
  /** JSON array of IPv4/IPv6 addresses and CIDR ranges exchanges may come from; null: any address. */
  allowed_ips: string | null;
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
  /** JSON array of scope names within the app's grant, fixed for the key's life; null: the app's grant. */
  scopes: string | null;
  /** JSON array of addresses and CIDR ranges within the app's list; null: the app's list. */
  allowed_ips: string | null;
  /** Hex HMAC-SHA256 of the secret under a key derived from the KEK, to find a leaked key from its secret; null for keys made before it existed. */
  secret_digest: string | null;
  /** When the key.expiring event (expires within 7 days) was emitted. */
  expiring_notified_at: number | null;
  /** When the key.expired event was emitted. */
  expired_notified_at: number | null;
  /** When the event warning that the key is about to be revoked as unused was emitted. */
  unused_notified_at: number | null;
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
  /** `ip:<subject>` or `key:<subject>|<key id>` (sign-in: `signin-ip:…`, `signin:<subject>|<email digest>`); see domain/throttle.ts. */
  key: string;
  /** When the row's one-minute window ends; a row whose window ended counts as absent. */
  ends_at: number;
  /** Attempts of the window counted and not given back: being checked, or failed. */
  count: number;
  /** Attempts of the window that failed. */
  failures: number;
}

export interface UsersTable {
  id: string;
  org_id: string;
  /** As given. */
  email: string;
  /** The email trimmed and in lower case: what sign-in compares, unique in the deployment. */
  email_key: string;
  name: string;
  /** viewer | editor | owner (domain/roles.ts). */
  role: string;
  /** active | invited | disabled. */
  status: string;
  /** argon2id PHC string; null until the invitation is accepted. */
  password_hash: string | null;
  created_at: number;
  created_by: string;
  updated_at: number;
  last_sign_in_at: number | null;
  /** The second factor's TOTP secret, AES-256-GCM under the KEK; null without one. */
  totp_secret_encrypted: string | null;
  /** The last TOTP time step accepted, so a code is never accepted twice. */
  totp_last_step: number | null;
  /** When the second factor was confirmed; null: no second factor (mfa_enabled false). */
  mfa_enabled_at: number | null;
}

export interface RecoveryCodesTable {
  user_id: string;
  /** A hash of one single-use recovery code of the second factor. */
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export interface UserLinksTable {
  /** SHA-256 (hex) of the token in the link; the token itself is never stored. */
  token_hash: string;
  /** invitation | password_reset. */
  purpose: string;
  org_id: string;
  /** Null only for the first start's open invitation of the root org's first owner. */
  user_id: string | null;
  /** The role an invitation gives (a reset's is the person's, unused). */
  role: string;
  created_at: number;
  created_by: string;
  expires_at: number;
}

export interface SessionsTable {
  /** `ses_…`: what a person sees and revokes; not the cookie's value. */
  id: string;
  /** SHA-256 (hex) of the cookie's random value. */
  token_hash: string;
  user_id: string;
  org_id: string;
  created_at: number;
  /** Refreshed at most once a minute: the idle timeout counts from here. */
  last_seen_at: number;
  /** The absolute end of the session. */
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
  /** Null for a full session; an enrolment-only session of the second factor names what it may do. */
  restricted_to: string | null;
}

export interface WebhooksTable {
  /** `whk_…` */
  id: string;
  org_id: string;
  url: string;
  /** JSON array of event types (domain/webhook-events.ts). */
  events: string;
  description: Generated<string>;
  /** The signing secret (whsec_…), AES-256-GCM under the KEK. */
  secret_encrypted: string;
  created_at: number;
  created_by: string;
  updated_at: number;
  disabled_at: number | null;
}

/** The outbox: one row per (event, webhook), inserted in the transaction of the change it tells of. */
export interface WebhookDeliveriesTable {
  /** `msg_…`-style delivery id. */
  id: string;
  webhook_id: string;
  org_id: string;
  /** The webhook-id header: the same for every attempt of this delivery. */
  event_id: string;
  event_type: string;
  /** The JSON body sent. */
  payload: string;
  created_at: number;
  /** pending | delivered | failed */
  status: string;
  attempts: Generated<number>;
  next_attempt_at: number | null;
  last_attempt_at: number | null;
  last_status_code: number | null;
  /** At most 1 KiB of the last response's body. */
  last_response: string | null;
  last_error: string | null;
  delivered_at: number | null;
}

/** A named background job's current runner on a shared database (store/leases.ts). */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface Database {
  orgs: OrgsTable;
  apps: AppsTable;
  api_keys: ApiKeysTable;
  signing_keys: SigningKeysTable;
  audit_events: AuditEventsTable;
  throttle_counters: ThrottleCountersTable;
  users: UsersTable;
  recovery_codes: RecoveryCodesTable;
  user_links: UserLinksTable;
  sessions: SessionsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  leases: LeasesTable;
}
