// Record → JSON for the admin API, in one place: snake_case, times as ISO 8601 UTC strings
// (null stays null), and field by field so nothing unlisted (a hash, a tombstone) leaks.
import type { AppView } from '../domain/apps.js';
import type { AuditEventView } from '../domain/audit.js';
import type { KeyView } from '../domain/key-status.js';
import type { OrgView } from '../domain/orgs.js';
import type { Page } from '../domain/pagination.js';
import type { Catalog } from '../domain/scopes.js';
import type { PersonView } from '../domain/people.js';
import type { SessionView } from '../domain/me.js';
import { isoTime } from '../domain/clock.js';

/** Renderers of other resources (render-webhooks.ts, the routes) write times the same way. */
export { isoTime };

export function renderApp(app: AppView) {
  return {
    id: app.id,
    org_id: app.org_id,
    name: app.name,
    description: app.description,
    scopes: app.scopes,
    effective_scopes: app.effective_scopes,
    audience: app.audience,
    token_ttl_seconds: app.token_ttl_seconds,
    allowed_ips: app.allowed_ips,
    created_at: isoTime(app.created_at),
    created_by: app.created_by,
    created_by_name: app.created_by_name,
    updated_at: isoTime(app.updated_at),
  };
}

export function renderKey(key: KeyView) {
  return {
    id: key.id,
    org_id: key.org_id,
    app_id: key.app_id,
    name: key.name,
    status: key.status,
    secret_hint: key.secret_hint,
    created_at: isoTime(key.created_at),
    created_by: key.created_by,
    created_by_name: key.created_by_name,
    expires_at: isoTime(key.expires_at),
    revoked_at: isoTime(key.revoked_at),
    revoked_by: key.revoked_by,
    revoked_by_name: key.revoked_by_name,
    revoke_reason: key.revoke_reason,
    last_used_at: isoTime(key.last_used_at),
    last_used_ip: key.last_used_ip,
    use_count: key.use_count,
    scopes: key.scopes,
    allowed_ips: key.allowed_ips,
  };
}

export function renderAuditEvent(event: AuditEventView) {
  return {
    id: event.id,
    org_id: event.org_id,
    at: isoTime(event.at),
    actor: event.actor,
    actor_name: event.actor_name,
    action: event.action,
    target_type: event.target_type,
    target_id: event.target_id,
    ip: event.ip,
    details: event.details,
  };
}

export function renderOrg(org: OrgView) {
  return {
    id: org.id,
    name: org.name,
    is_root: org.is_root,
    allowed_scopes: org.allowed_scopes,
    effective_allowed_scopes: org.effective_allowed_scopes,
    disabled: org.disabled,
    disabled_at: isoTime(org.disabled_at),
    require_mfa: org.require_mfa,
    auto_revoke_unused_days: org.auto_revoke_unused_days,
    created_at: isoTime(org.created_at),
    created_by: org.created_by,
  };
}

export function renderPerson(person: PersonView) {
  return {
    id: person.id,
    org_id: person.org_id,
    email: person.email,
    name: person.name,
    role: person.role,
    status: person.status,
    created_at: isoTime(person.created_at),
    created_by: person.created_by,
    created_by_name: person.created_by_name,
    last_sign_in_at: isoTime(person.last_sign_in_at),
    mfa_enabled: person.mfa_enabled,
  };
}

export function renderSession(session: SessionView) {
  return {
    id: session.id,
    created_at: isoTime(session.created_at),
    last_seen_at: isoTime(session.last_seen_at),
    expires_at: isoTime(session.expires_at),
    ip: session.ip,
    user_agent: session.user_agent,
    current: session.current,
  };
}

export function renderPage<T, R>(page: Page<T>, render: (item: T) => R) {
  return { data: page.data.map(render), next_cursor: page.nextCursor };
}

/** GET /v1/scopes: the catalogue as an admin picks from it; `defaultAudience` is SCOPE_AUTH_AUDIENCE. */
export function renderCatalog(catalog: Catalog, defaultAudience: string) {
  return {
    components: catalog.components.map((c) => ({
      name: c.name,
      description: c.description,
      levels: c.levels,
      scopes: c.levels.map((level) => `${c.name}:${level}`),
      builtin: c.builtin,
    })),
    permissions: catalog.permissions.map((p) => ({ name: p.name, description: p.description, implies: p.implies, builtin: p.builtin })),
    scopes: catalog.scopes,
    audiences: catalog.audiences.map((a) => ({ audience: a.audience, description: a.description })),
    default_audience: defaultAudience,
  };
}
