// People's sessions. A session is a row keyed by the SHA-256 of a random 256-bit value that
// only the person's cookie holds. Every session-authenticated request reads that row, joined
// with the person and the org (one indexed read, no cache): a sign-out, a disabled person,
// a changed role or a reset password therefore ends the session at once on every instance
// sharing the database. A session ends after SCOPE_AUTH_SESSION_IDLE without a request and
// SCOPE_AUTH_SESSION_MAX after sign-in. The idle clock is moved on at most once a minute per
// session, not on every request (the hot path does no write per read), so a session may end
// up to a minute before its idle timeout would say.
//
// The CSRF token of a session is not stored: it is an HMAC of the session's secret value
// under a key derived from the key-encryption key, which every instance has. So any instance
// can check it, GET /v1/me can show it again after a page reload, and nothing in the
// database (which holds only the secret's digest) yields it.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/database.js';
import * as store from '../store/sessions.js';
import type { SessionRow } from '../store/sessions.js';
import type { Clock } from './clock.js';
import { newId } from './credentials.js';
import { enrolmentRestriction, type SessionRestriction } from './enrolment-restriction.js';
import { isTokenShape, randomToken, tokenDigest } from './opaque-tokens.js';
import { roleScopeSets } from './roles.js';
import type { Catalog } from './scopes.js';

/** The idle clock moves on at most this often per session. */
export const IDLE_REFRESH_MS = 60_000;
const USER_AGENT_MAX = 200;

export interface SessionSettings {
  readonly idleMs: number;
  readonly maxMs: number;
}

export function sessionSettings(people: { sessionIdleSeconds: number; sessionMaxSeconds: number }): SessionSettings {
  return { idleMs: people.sessionIdleSeconds * 1000, maxMs: people.sessionMaxSeconds * 1000 };
}

export interface NewSession {
  /** The cookie's value: given to the person once, never stored. */
  readonly secret: string;
  readonly row: SessionRow;
}

/** A session for the person, not stored yet (the caller inserts it in its transaction). */
export function prepareSession(
  clock: Clock,
  settings: SessionSettings,
  input: { userId: string; orgId: string; ip: string | null; userAgent: string | null },
): NewSession {
  const now = clock.now();
  const secret = randomToken();
  return {
    secret,
    row: {
      id: newId('session', now),
      token_hash: tokenDigest(secret),
      user_id: input.userId,
      org_id: input.orgId,
      created_at: now,
      last_seen_at: now,
      expires_at: now + settings.maxMs,
      ip: input.ip,
      user_agent: input.userAgent === null ? null : input.userAgent.slice(0, USER_AGENT_MAX),
      restricted_to: null,
    },
  };
}

/** A session that may act now: its person, their org, and their role's scopes. */
export interface SessionCaller {
  readonly sessionId: string;
  readonly userId: string;
  readonly orgId: string;
  readonly role: string;
  readonly scopes: ReadonlySet<string>;
  /** The cookie's value, for the CSRF check. */
  readonly secret: string;
  /** The absolute end (the idle timeout may end it sooner). */
  readonly expiresAt: number;
  /** Set while the person's org requires a second factor they have not enrolled: the session then holds no scope. */
  readonly restrictedTo: SessionRestriction | null;
}

const NO_SCOPES: ReadonlySet<string> = new Set();

export type SessionAuthority = (secret: string) => Promise<SessionCaller | null>;

/**
 * Whether a session row read now may act: not ended, its person active, its org enabled.
 * The stored `restricted_to` is not written by this version (the enrolment restriction is
 * derived, see enrolment-restriction.ts); a row carrying one is refused, failing closed.
 */
export function sessionActs(row: store.SessionAuthRow, now: number, settings: SessionSettings): boolean {
  return (
    row.expires_at > now &&
    row.last_seen_at + settings.idleMs > now &&
    row.user_status === 'active' &&
    row.org_disabled_at === null &&
    row.restricted_to === null
  );
}

export function createSessionAuthority(deps: { db: Db; clock: Clock; catalog: Catalog; settings: SessionSettings }): SessionAuthority {
  const scopesOf = roleScopeSets(deps.catalog);
  return async (secret) => {
    if (!isTokenShape(secret)) return null;
    const row = await store.findSessionForAuth(deps.db, tokenDigest(secret));
    const now = deps.clock.now();
    if (row === undefined || !sessionActs(row, now, deps.settings)) return null;
    if (now - row.last_seen_at >= IDLE_REFRESH_MS) await store.touchSession(deps.db, row.session_id, now, IDLE_REFRESH_MS);
    const restrictedTo = enrolmentRestriction({ orgRequiresMfa: row.org_require_mfa === 1, mfaEnabledAt: row.user_mfa_enabled_at });
    return {
      sessionId: row.session_id,
      userId: row.user_id,
      orgId: row.org_id,
      role: row.user_role,
      scopes: restrictedTo === null ? scopesOf(row.user_role, row.org_is_root === 1) : NO_SCOPES,
      secret,
      expiresAt: row.expires_at,
      restrictedTo,
    };
  };
}

export interface Csrf {
  /** The session's CSRF token. */
  tokenFor(secret: string): string;
  /** Constant-time comparison with what the request carried. */
  matches(secret: string, given: string | undefined): boolean;
}

/** CSRF tokens under a key derived from the key-encryption key (the same on every instance). */
export function createCsrf(kek: Buffer): Csrf {
  const key = Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'scope-auth session csrf v1', 32));
  const tokenFor = (secret: string) => createHmac('sha256', key).update(secret).digest('base64url');
  return {
    tokenFor,
    matches(secret, given) {
      if (given === undefined) return false;
      const expected = Buffer.from(tokenFor(secret));
      const actual = Buffer.from(given);
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
