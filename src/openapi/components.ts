// The document's shared schemas: every body the renderers (http/render.ts) answer with, the
// two error shapes (problem+json everywhere, OAuth 2.0's on the token endpoints), and the
// public documents. Typed against the renderers, so a field added there fails to compile here.
import type { renderApp, renderAuditEvent, renderKey, renderOrg, renderPerson, renderSession } from '../http/render.js';
import { KEY_STATUSES } from '../domain/key-status.js';
import { ROLES } from '../domain/roles.js';
import type { AuthorizationServerMetadata } from '../routes/metadata.js';
import {
  arrayOf,
  boolean,
  integer,
  nullableInteger,
  nullableString,
  nullableTime,
  object,
  oneOfValues,
  ref,
  string,
  strings,
  time,
  type JsonSchema,
} from './schema.js';

const nullableStrings: JsonSchema = { type: ['array', 'null'], items: string };

const app = object<ReturnType<typeof renderApp>>({
  id: string,
  org_id: string,
  name: string,
  description: string,
  scopes: strings,
  effective_scopes: { ...strings, description: 'The scopes its keys get: `scopes` with what each implies, within the org allowance.' },
  audience: { ...nullableString, description: 'The `aud` of its tokens; null: the server default.' },
  token_ttl_seconds: { ...nullableInteger, description: 'The lifetime of its tokens; null: the server default.' },
  allowed_ips: {
    ...nullableStrings,
    description:
      'The client addresses (IPv4/IPv6 addresses and CIDR ranges, normalized) its keys may exchange from; null: any address. An exchange from elsewhere is refused with `invalid_client`.',
  },
  created_at: time,
  created_by: string,
  created_by_name: nullableString,
  updated_at: time,
});

const key = object<ReturnType<typeof renderKey>>(
  {
    id: string,
    org_id: string,
    app_id: string,
    name: string,
    status: oneOfValues(KEY_STATUSES),
    secret_hint: string,
    created_at: time,
    created_by: string,
    created_by_name: nullableString,
    expires_at: nullableTime,
    revoked_at: nullableTime,
    revoked_by: nullableString,
    revoked_by_name: nullableString,
    revoke_reason: nullableString,
    last_used_at: nullableTime,
    last_used_ip: nullableString,
    use_count: integer,
    scopes: {
      ...nullableStrings,
      description: "The key's own scopes, fixed for its life: its tokens carry its app's grant ∩ the org allowance ∩ these; null: whatever the app grants.",
    },
    allowed_ips: {
      ...nullableStrings,
      description: "The key's own allowed client addresses, within its app's list; an exchange must pass both. Null: the app's list alone.",
    },
  },
  'An API key. Its secret is answered once, next to it, when it is created or rolled.',
);

const org = object<ReturnType<typeof renderOrg>>({
  id: string,
  name: string,
  is_root: boolean,
  allowed_scopes: { ...nullableStrings, description: 'The most its apps may grant; null: every non-admin scope.' },
  effective_allowed_scopes: strings,
  disabled: boolean,
  disabled_at: nullableTime,
  require_mfa: boolean,
  auto_revoke_unused_days: {
    ...nullableInteger,
    description: 'Its active keys unused (or never used) for this many days are revoked by the server, reason `unused`; null: never.',
  },
  created_at: time,
  created_by: string,
});

const person = object<ReturnType<typeof renderPerson>>({
  id: string,
  org_id: string,
  email: string,
  name: string,
  role: oneOfValues(ROLES),
  status: oneOfValues(['invited', 'active', 'disabled']),
  created_at: time,
  created_by: string,
  created_by_name: nullableString,
  last_sign_in_at: nullableTime,
  mfa_enabled: boolean,
});

const session = object<ReturnType<typeof renderSession>>({
  id: string,
  created_at: time,
  last_seen_at: time,
  expires_at: time,
  ip: nullableString,
  user_agent: nullableString,
  current: boolean,
});

const auditEvent = object<ReturnType<typeof renderAuditEvent>>({
  id: string,
  org_id: string,
  at: time,
  actor: string,
  actor_name: nullableString,
  action: string,
  target_type: nullableString,
  target_id: nullableString,
  ip: nullableString,
  details: { type: 'object', additionalProperties: true },
});

const metadata = object<AuthorizationServerMetadata>(
  {
    issuer: string,
    token_endpoint: string,
    jwks_uri: string,
    scopes_supported: strings,
    response_types_supported: strings,
    grant_types_supported: strings,
    token_endpoint_auth_methods_supported: strings,
    introspection_endpoint: string,
    introspection_endpoint_auth_methods_supported: strings,
  },
  'RFC 8414 authorization server metadata.',
);

const catalog: JsonSchema = {
  type: 'object',
  required: ['components', 'permissions', 'scopes', 'audiences', 'default_audience'],
  properties: {
    components: arrayOf({
      type: 'object',
      required: ['name', 'description', 'levels', 'scopes', 'builtin'],
      properties: { name: string, description: string, levels: strings, scopes: strings, builtin: boolean },
    }),
    permissions: arrayOf({
      type: 'object',
      required: ['name', 'description', 'implies', 'builtin'],
      properties: { name: string, description: string, implies: strings, builtin: boolean },
    }),
    scopes: strings,
    audiences: arrayOf({ type: 'object', required: ['audience', 'description'], properties: { audience: string, description: string } }),
    default_audience: string,
  },
};

const problem: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details. `code` is stable; some carry more members (`errors`, `required_scope`, `missing_scopes`, `forbidden_scopes`).',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', examples: ['urn:scope-auth:problem:invalid_request'] },
    title: string,
    status: integer,
    detail: string,
    code: string,
    errors: arrayOf({ type: 'object', required: ['path', 'message'], properties: { path: string, message: string } }),
    required_scope: string,
    missing_scopes: strings,
    forbidden_scopes: strings,
  },
};

const oauthError: JsonSchema = {
  type: 'object',
  description: 'RFC 6749 §5.2 error: one identical body for every credential failure.',
  required: ['error', 'error_description'],
  properties: {
    error: oneOfValues(['invalid_request', 'invalid_client', 'invalid_scope', 'unsupported_grant_type', 'slow_down', 'temporarily_unavailable', 'server_error']),
    error_description: string,
  },
};

const tokenResponse: JsonSchema = {
  type: 'object',
  description: 'RFC 6749 §5.1. `access_token` is an RFC 9068 JWT (header `typ: at+jwt`), verifiable against the JWKS.',
  required: ['access_token', 'token_type', 'expires_in', 'scope'],
  properties: { access_token: string, token_type: { const: 'Bearer' }, expires_in: integer, scope: { type: 'string', description: 'Space-separated.' } },
};

const introspection: JsonSchema = {
  type: 'object',
  description: 'RFC 7662 §2.2. An inactive (expired, revoked, foreign, malformed) token is `{ "active": false }` and nothing else.',
  required: ['active'],
  properties: {
    active: boolean,
    scope: string,
    client_id: string,
    token_type: { const: 'Bearer' },
    exp: integer,
    iat: integer,
    sub: string,
    aud: { anyOf: [string, strings] },
    iss: string,
    jti: string,
    org_id: string,
    app_id: string,
  },
};

const jwks: JsonSchema = {
  type: 'object',
  description: 'RFC 7517 key set: the public signing keys, published before use and after retirement.',
  required: ['keys'],
  properties: { keys: arrayOf({ type: 'object', required: ['kty', 'kid'], properties: { kty: string, kid: string, alg: string, use: string }, additionalProperties: true }) },
};

const page = (item: string): JsonSchema => ({
  type: 'object',
  description: 'A page, newest first; pass `next_cursor` as `?cursor=` for the next one (null: the last page).',
  required: ['data', 'next_cursor'],
  properties: { data: arrayOf(ref(item)), next_cursor: nullableString },
});

export const componentSchemas: Readonly<Record<string, JsonSchema>> = {
  App: app,
  Key: key,
  Org: org,
  Person: person,
  Session: session,
  AuditEvent: auditEvent,
  AppPage: page('App'),
  KeyPage: page('Key'),
  OrgPage: page('Org'),
  PersonPage: page('Person'),
  SessionPage: page('Session'),
  AuditEventPage: page('AuditEvent'),
  KeyWithSecret: {
    type: 'object',
    required: ['key', 'secret'],
    properties: { key: ref('Key'), secret: { type: 'string', description: 'The `secret_…`: shown this once, stored only as a hash.' } },
  },
  Catalog: catalog,
  Problem: problem,
  OAuthError: oauthError,
  TokenResponse: tokenResponse,
  Introspection: introspection,
  AuthorizationServerMetadata: metadata,
  Jwks: jwks,
};
