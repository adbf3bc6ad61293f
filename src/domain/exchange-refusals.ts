// How the token exchange records a refusal: a log line, and an audit event in the org the
// request names (when one exists). Refusals anybody can cause for free (an unknown key id, a
// key of another org, an address outside a key's allow-list, a throttled caller) are counted
// by the refusal audit, one event per org, source, reason and minute (refusal-audit.ts); the
// others are one event each.
import type { Logger } from 'pino';
import { findKeyForExchange } from '../store/api-keys.js';
import type { Db } from '../store/database.js';
import { getOrg } from '../store/orgs.js';
import { recordAudit } from './audit.js';
import { createBoundedWindows } from './bounded-windows.js';
import type { Clock } from './clock.js';
import { isId } from './credentials.js';
import type { ExchangeRequest, ExchangeResult, RefusalReason } from './exchange.js';
import type { RefusalAudit } from './refusal-audit.js';

/** The audit action of every refused exchange. */
export const REFUSED_ACTION = 'token.refused';

/** Throttled (client, key id) pairs whose org is remembered, and for how long. */
const THROTTLED_ORGS_MAX = 30_000;
const THROTTLED_ORG_MEMO_MS = 60_000;

export interface RefusalRecorderDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly refusalAudit: RefusalAudit;
}

export function createRefusalRecorder(deps: RefusalRecorderDeps) {
  const { db, clock, logger } = deps;

  /**
   * Records a refusal in the org's audit log (when an org can be named); the caller has counted
   * it for the throttle. The ones anybody can cause for free are aggregated (refusal-audit.ts).
   */
  async function refuse(request: ExchangeRequest, reason: RefusalReason, orgId: string | null): Promise<ExchangeResult> {
    // The request's log line says who and why (http/token-endpoint.ts).
    if (orgId !== null) {
      if (reason === 'unknown_key' || reason === 'org_mismatch' || reason === 'ip_not_allowed') await deps.refusalAudit.add({ orgId, ip: request.ip, targetId: request.keyId, reason });
      else await audit(orgId, request, { reason });
    }
    return { ok: false, error: 'invalid_client', reason, orgId };
  }

  async function audit(orgId: string, request: ExchangeRequest, details: Record<string, unknown>) {
    try {
      await recordAudit(db, clock, {
        orgId,
        actor: 'anonymous',
        action: REFUSED_ACTION,
        targetType: 'key',
        targetId: request.keyId,
        ip: request.ip,
        details,
      });
    } catch (error) {
      logger.error({ err: error, request_id: request.requestId }, 'writing the audit event of a refused exchange failed');
    }
  }

  /** The org whose audit log should hear about an unknown key: the claimed one, if it exists. */
  async function claimedOrg(request: ExchangeRequest): Promise<string | null> {
    if (request.orgId === undefined || !isId('org', request.orgId)) return null;
    return (await getOrg(db, request.orgId)) ? request.orgId : null;
  }

  // The org a throttled (client, key id) names, looked up once a minute: a blocked caller
  // costs no query per request, and its refusals are still counted in that org's audit log.
  const throttledOrgs = createBoundedWindows<{ readonly endsAt: number; readonly orgId: string | null }>(THROTTLED_ORGS_MAX);

  /** A throttled answer, counted in the audit log. `orgId` undefined: not known yet (refused before the key row was read). */
  async function throttled(request: ExchangeRequest, retryAfterSeconds: number, orgId?: string | null): Promise<ExchangeResult> {
    if (orgId === undefined) {
      const now = clock.now();
      const memo = `${request.ip}|${request.keyId.slice(0, 64)}`;
      const known = throttledOrgs.open(memo, now);
      if (known !== undefined) orgId = known.orgId;
      else {
        const row = isId('key', request.keyId) ? await findKeyForExchange(db, request.keyId) : undefined;
        orgId = row?.org_id ?? (await claimedOrg(request));
        throttledOrgs.set(memo, { orgId, endsAt: now + THROTTLED_ORG_MEMO_MS }, now);
      }
    }
    if (orgId !== null) {
      await deps.refusalAudit.add({ orgId, ip: request.ip, targetId: request.keyId, reason: 'throttled', details: { retry_after_seconds: retryAfterSeconds } });
    }
    return { ok: false, error: 'throttled', retryAfterSeconds };
  }

  return { refuse, throttled, audit, claimedOrg };
}
