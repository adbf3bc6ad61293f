// The token exchange: credentials in, a scoped access token out. One code path for
// POST /v1/token and POST /oauth2/token. The checks run cheapest first:
//   blocked callers this process knows of (memory) → secret checksum → key row (read every
//   time, so a revocation by any process applies at once) → org match → client address
//   (the app's and the key's IP allow-lists, ip-allow-lists.ts) → argon2 (skipped when
//   this process verified the same secret against the same hash recently; counted by the
//   throttle before it runs and given back when the secret is right; bounded by a queue that
//   serves clients in turn and answers `unavailable` when full) → org/key/app status →
//   scope (the app's grant within its org's allowance and the key's own scopes, read with the
//   key row) → mint.
// Every refusal before argon2 counts as a failure for the throttle; an exchange whose secret
// was found already verified does no throttle work at all. An unknown key, an org mismatch
// or an address the lists do not allow is answered as a wrong secret would be, `unavailable`
// when the queue would not take the client now, else no sooner than its verification would
// have finished (refusal-pacing.ts): the caller learns nothing about the key.
import type { Logger } from 'pino';
import type { Db } from '../store/database.js';
import { findKeyForExchange } from '../store/api-keys.js';
import { isDatabaseUnavailable } from '../store/availability.js';
import type { Argon2Queue } from './argon2-queue.js';
import type { Clock } from './clock.js';
import { countedWarning } from './counted-warning.js';
import { isId, isWellFormedSecret } from './credentials.js';
import { createRefusalRecorder } from './exchange-refusals.js';
import { createAddressPolicy } from './ip-allow-lists.js';
import { createRefusalPacer } from './refusal-pacing.js';
import type { SecretHasher } from './hashing.js';
import type { Keyring } from './keyring.js';
import type { LastUsedRecorder } from './last-used.js';
import { storedTokenScopes } from './allowances.js';
import type { Catalog } from './scopes.js';
import type { RefusalAudit } from './refusal-audit.js';
import type { Reservation, Throttle } from './throttle.js';
import { throttleSubject } from './throttle-subject.js';
import { mintAccessToken, tokenLifetime } from './tokens.js';
import type { VerifiedCache } from './verified-cache.js';

export interface ExchangeRequest {
  /** Absent for OAuth client credentials, where the key names its org. */
  readonly orgId?: string;
  readonly keyId: string;
  readonly secret: string;
  /** Requested scopes; absent means everything the app grants. */
  readonly scopes?: readonly string[];
  readonly ip: string;
  /** The request's X-Request-Id, for the lines this exchange writes itself. */
  readonly requestId?: string | undefined;
}

/** Why a credential was refused; recorded in the audit log, never shown to the caller. */
export type RefusalReason =
  | 'malformed_credentials'
  | 'unknown_org'
  | 'unknown_key'
  | 'org_mismatch'
  | 'wrong_secret'
  | 'revoked'
  | 'expired'
  | 'app_deleted'
  | 'org_disabled'
  /** The client address is outside the app's or the key's IP allow-list. */
  | 'ip_not_allowed';

export type ExchangeOutcome = 'issued' | 'invalid_client' | 'invalid_scope' | 'throttled' | 'unavailable';

/**
 * `orgId` (the key's org, or for an unknown key the claimed org when it exists) and `reason`
 * are for the request's log line and the audit log, never for the caller.
 */
export type ExchangeResult =
  | { ok: true; accessToken: string; expiresIn: number; scope: string; orgId: string }
  | { ok: false; error: 'invalid_client'; reason: RefusalReason; orgId: string | null }
  | { ok: false; error: 'invalid_scope'; notGranted: string[]; orgId: string }
  | { ok: false; error: 'throttled'; retryAfterSeconds: number }
  /**
   * Nothing was decided, try again later: too many argon2 verifications are already waiting
   * (`busy`), or the database cannot be reached in time (`database`).
   */
  | { ok: false; error: 'unavailable'; retryAfterSeconds: number; cause: 'busy' | 'database' };

export interface ExchangeObserver {
  exchange(outcome: ExchangeOutcome, seconds: number): void;
  argon2(seconds: number): void;
  /** Whether a key's secret was found already verified (argon2 skipped). */
  verifiedCache(hit: boolean): void;
}

export interface ExchangeDeps {
  readonly db: Db;
  readonly hasher: SecretHasher;
  readonly keyring: Keyring;
  readonly catalog: Catalog;
  readonly clock: Clock;
  readonly throttle: Throttle;
  readonly lastUsed: LastUsedRecorder;
  readonly observer: ExchangeObserver;
  readonly logger: Logger;
  readonly issuer: string;
  readonly audience: string;
  readonly ttl: { defaultSeconds: number; minSeconds: number; maxSeconds: number };
  /** Without one, every exchange runs argon2. */
  readonly verifiedCache?: VerifiedCache;
  /** Where the refusals anybody can cause for free are counted (one event per org, source, reason and minute). */
  readonly refusalAudit: RefusalAudit;
  /** Without one, argon2 verifications are not bounded here. */
  readonly argon2Queue?: Argon2Queue;
}

export type Exchange = (request: ExchangeRequest) => Promise<ExchangeResult>;

export { REFUSED_ACTION } from './exchange-refusals.js';

/** What a client is told to wait when the database could not answer (a reconnect takes about that). */
const DATABASE_RETRY_AFTER_SECONDS = 1;

export function createExchange(deps: ExchangeDeps): Exchange {
  const { db, clock, throttle, logger } = deps;
  const queue = deps.argon2Queue;
  const pacer = createRefusalPacer({ clock });

  const grantedScopes = storedTokenScopes(deps.catalog);
  const addressAllowed = createAddressPolicy();
  // 503s come in floods, so each cause is one warn line a second with its count; the
  // requests' own lines go below info (see http/token-endpoint.ts).
  const shedding = countedWarning(logger, 'argon2 queue full: token exchanges answered 503 temporarily_unavailable');
  const unreachable = countedWarning(logger, 'database unavailable: token exchanges answered 503 temporarily_unavailable');

  async function verifySecret(secretHash: string, secret: string): Promise<boolean> {
    const started = performance.now();
    const verified = await deps.hasher.verify(secretHash, secret);
    deps.observer.argon2((performance.now() - started) / 1000);
    return verified;
  }

  const { refuse, throttled, audit, claimedOrg } = createRefusalRecorder({ db, clock, logger, refusalAudit: deps.refusalAudit });

  /** A refusal found without checking a secret: a failure for the throttle, or throttled beyond its limit. */
  async function refuseUnchecked(request: ExchangeRequest, reason: RefusalReason, orgId: string | null): Promise<ExchangeResult> {
    const wait =
      reason === 'malformed_credentials'
        ? await throttle.recordMalformed(request.ip, request.keyId)
        : await throttle.recordFailure(request.ip, request.keyId);
    return wait === null ? refuse(request, reason, orgId) : throttled(request, wait, orgId);
  }

  /** The argon2 queue would not take the client's verification now. Not the caller's failure: no throttle count, no audit event; the metric tells the operator. */
  function busy(request: ExchangeRequest): ExchangeResult {
    const retryAfterSeconds = queue?.retryAfterSeconds() ?? 1;
    shedding.count({ retry_after_seconds: retryAfterSeconds });
    return { ok: false, error: 'unavailable', retryAfterSeconds, cause: 'busy' };
  }

  /** An unknown key or an org mismatch, answered when and as a wrong secret would be (see the head of this file). */
  async function refuseAsIfVerified(request: ExchangeRequest, reason: RefusalReason, orgId: string | null): Promise<ExchangeResult> {
    const source = throttleSubject(request.ip);
    if (queue && !queue.admits(source)) return busy(request);
    const verificationMs = (queue?.expectedSeconds(source) ?? 0) * 1000;
    const result = await refuseUnchecked(request, reason, orgId);
    // Held after its own count and audit row, which stand for a wrong secret's own (reserve, fail, audit).
    if (!result.ok && result.error === 'invalid_client') await pacer.holdUntil(clock.now() + verificationMs);
    return result;
  }

  type Verification = { ok: true; reservation: Reservation } | { ok: false; result: ExchangeResult };

  /** argon2, counted by the throttle before it runs; a granted reservation is left for the caller to settle. */
  async function verifyCounted(request: ExchangeRequest, key: { id: string; org_id: string; secret_hash: string }): Promise<Verification> {
    const source = throttleSubject(request.ip);
    if (queue && !queue.admits(source)) return { ok: false, result: busy(request) };
    const reservation = await throttle.reserve(request.ip, request.keyId);
    if (!reservation.granted) return { ok: false, result: await throttled(request, reservation.retryAfterSeconds, key.org_id) };
    const verify = () => verifySecret(key.secret_hash, request.secret);
    let verified: boolean;
    try {
      const outcome = queue ? await queue.run(source, verify) : { ran: true as const, value: await verify() };
      if (!outcome.ran) {
        await reservation.release();
        return { ok: false, result: busy(request) };
      }
      verified = outcome.value;
    } catch (error) {
      await reservation.release();
      throw error;
    }
    if (verified) return { ok: true, reservation };
    await reservation.fail();
    return { ok: false, result: await refuse(request, 'wrong_secret', key.org_id) };
  }

  async function run(request: ExchangeRequest): Promise<ExchangeResult> {
    const blocked = throttle.blockedFor(request.ip, request.keyId);
    if (blocked !== null) return throttled(request, blocked);

    if (
      !isWellFormedSecret(request.secret) ||
      !isId('key', request.keyId) ||
      (request.orgId !== undefined && !isId('org', request.orgId))
    ) {
      return refuseUnchecked(request, 'malformed_credentials', null);
    }

    const key = await findKeyForExchange(db, request.keyId);
    if (!key) return refuseAsIfVerified(request, 'unknown_key', await claimedOrg(request));
    if (request.orgId !== undefined && request.orgId !== key.org_id) {
      // The key's owner is the one who should learn that someone holds its id.
      return refuseAsIfVerified(request, 'org_mismatch', key.org_id);
    }
    // Before the verified cache as before argon2: a secret verified from an allowed address
    // does not open the key from another.
    if (!addressAllowed(key.app_allowed_ips, key.key_allowed_ips, request.ip)) {
      return refuseAsIfVerified(request, 'ip_not_allowed', key.org_id);
    }

    const cache = deps.verifiedCache;
    const cached = cache?.has(key.id, key.secret_hash, request.secret) ?? false;
    if (cache) deps.observer.verifiedCache(cached);
    // A secret found already verified proves itself: nothing to count, nothing to give back.
    let reservation: Reservation | undefined;
    if (!cached) {
      const verification = await verifyCounted(request, key);
      if (!verification.ok) return verification.result;
      reservation = verification.reservation;
    }

    const now = clock.now();
    // The secret was right, but the key may not be used: still a failure.
    const refuseVerified = async (reason: RefusalReason) => {
      await reservation?.fail();
      return refuse(request, reason, key.org_id);
    };
    if (key.org_disabled_at !== null) return refuseVerified('org_disabled');
    if (key.revoked_at !== null) return refuseVerified('revoked');
    if (key.expires_at !== null && key.expires_at <= now) return refuseVerified('expired');
    if (key.app_deleted_at !== null) return refuseVerified('app_deleted');
    // Only a credential that fully authenticated is remembered, and it does not count.
    if (!cached) cache?.remember(key.id, key.secret_hash, request.secret);
    await reservation?.release();

    const granted = grantedScopes(key.app_scopes, key.org_allowed_scopes, key.key_scopes);
    let scopes = granted;
    if (request.scopes !== undefined) {
      const grantedSet = new Set(granted);
      const notGranted = request.scopes.filter((s) => !grantedSet.has(s));
      if (notGranted.length > 0) {
        // Granted to the app but outside its org's allowance (the operator narrowed it), or
        // within both but not among the key's own scopes.
        const appGrant = new Set(grantedScopes(key.app_scopes, null));
        const allowed = new Set(grantedScopes(key.app_scopes, key.org_allowed_scopes));
        const outsideAllowance = notGranted.filter((s) => appGrant.has(s) && !allowed.has(s));
        const outsideKey = notGranted.filter((s) => allowed.has(s));
        await audit(key.org_id, request, {
          reason: 'scope_not_granted',
          scopes: notGranted,
          ...(outsideAllowance.length > 0 ? { outside_allowance: outsideAllowance } : {}),
          ...(outsideKey.length > 0 ? { outside_key: outsideKey } : {}),
        });
        return { ok: false, error: 'invalid_scope', notGranted, orgId: key.org_id };
      }
      scopes = deps.catalog.expand(request.scopes);
    }

    const expiresIn = tokenLifetime(key.app_token_ttl_seconds, deps.ttl);
    const accessToken = await mintAccessToken(deps.keyring.signingKey(), {
      issuer: deps.issuer,
      audience: key.app_audience ?? deps.audience,
      keyId: key.id,
      orgId: key.org_id,
      appId: key.app_id,
      scopes,
      ttlSeconds: expiresIn,
      nowMs: now,
    });
    deps.lastUsed.record(key.id, now, request.ip);
    return { ok: true, accessToken, expiresIn, scope: scopes.join(' '), orgId: key.org_id };
  }

  /** A database that is down or stalled is the server's trouble, not the caller's: 503, retry soon. */
  async function runOrUnavailable(request: ExchangeRequest): Promise<ExchangeResult> {
    try {
      return await run(request);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      unreachable.count({ err: { message: (error as Error).message, code: (error as { code?: unknown }).code } });
      return { ok: false, error: 'unavailable', retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS, cause: 'database' };
    }
  }

  return async (request) => {
    const started = performance.now();
    const result = await runOrUnavailable(request);
    deps.observer.exchange(result.ok ? 'issued' : result.error, (performance.now() - started) / 1000);
    return result;
  };
}
