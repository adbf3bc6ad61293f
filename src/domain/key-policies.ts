// The key-policy sweeper: a background job (periodic-job.ts: one instance at a time, every
// SCOPE_AUTH_KEY_POLICY_INTERVAL_MS) that, across every enabled org, revokes keys unused for longer
// than their org's auto_revoke_unused_days and sends the keys' reminders (unused-keys.ts,
// key-reminders.ts). Each pass walks the due keys in pages of SWEEP_PAGE_SIZE in key-id
// order, one transaction per key, renewing the lease between pages; a run stops after
// SWEEP_MAX_PAGES pages of a pass, and the next run goes on. Every change is conditional, so
// a key is revoked, and each reminder sent, once, even when two sweepers race.
import type { SweptKey, SweepPage } from '../store/key-policies.js';
import { listExpiredKeys, listExpiringKeys, listKeysSoonUnused, listUnusedKeys } from '../store/key-policies.js';
import { reportExpired, remindExpiring } from './key-reminders.js';
import { DAY_MS } from './keys.js';
import { createPeriodicJob, type JobRun, type PeriodicJob } from './periodic-job.js';
import { revokeIfUnused, warnSoonUnused, type UnusedKeysDeps } from './unused-keys.js';

export const KEY_POLICIES_JOB = 'key-policies';
/** How long before a key expires, or is revoked as unused, its `key.expiring` event is sent. */
export const REMINDER_WINDOW_MS = 7 * DAY_MS;
/**
 * `key.expired` is sent for keys that expired at most this long ago: keys that expired long
 * before the sweeper first ran (before the upgrade that brought it) are not reported.
 */
export const EXPIRED_LOOKBACK_MS = 7 * DAY_MS;
export const SWEEP_PAGE_SIZE = 100;
/** Pages per pass and run: a backlog (a policy just set on an org of many idle keys) is worked off over several runs. */
export const SWEEP_MAX_PAGES = 20;

export interface SweepCounts {
  /** Keys revoked as unused. */
  readonly revoked_unused: number;
  /** Root-org keys the policy would have revoked, kept as the last way in (newly noted). */
  readonly kept_last_root_admin: number;
  /** `key.expiring` events with reason `unused`. */
  readonly unused_warnings: number;
  /** `key.expiring` events with reason `expiry`. */
  readonly expiring: number;
  readonly expired: number;
}

export interface KeyPoliciesDeps extends UnusedKeysDeps {
  /** Counts each run's actions (http/metrics.ts). */
  readonly metrics?: { keyPolicies(counts: SweepCounts): void };
}

type LeaseCheck = Pick<JobRun, 'stillHolder'>;
const ALWAYS: LeaseCheck = { stillHolder: async () => true };

/** False when the lease was lost: the run stops. */
async function pass<T extends SweptKey>(deps: KeyPoliciesDeps, run: LeaseCheck, list: (page: SweepPage) => Promise<T[]>, each: (key: T) => Promise<void>): Promise<boolean> {
  let afterId: string | null = null;
  for (let page = 0; page < SWEEP_MAX_PAGES; page++) {
    if (page > 0 && !(await run.stillHolder())) return false;
    const keys = await list({ now: deps.clock.now(), afterId, limit: SWEEP_PAGE_SIZE });
    for (const key of keys) await each(key);
    if (keys.length < SWEEP_PAGE_SIZE) return true;
    afterId = keys[keys.length - 1]!.id;
  }
  return true;
}

/** One sweep: the revocations first (a key revoked needs no warning), then the reminders. */
export async function sweepKeyPolicies(deps: KeyPoliciesDeps, run: LeaseCheck = ALWAYS): Promise<SweepCounts> {
  const counts = { revoked_unused: 0, kept_last_root_admin: 0, unused_warnings: 0, expiring: 0, expired: 0 };
  const passes = [
    () =>
      pass(deps, run, (page) => listUnusedKeys(deps.db, page), async (key) => {
        const outcome = await revokeIfUnused(deps, key);
        if (outcome === 'revoked') counts.revoked_unused++;
        if (outcome === 'kept') counts.kept_last_root_admin++;
      }),
    () =>
      pass(deps, run, (page) => listKeysSoonUnused(deps.db, { ...page, windowMs: REMINDER_WINDOW_MS }), async (key) => {
        if (await warnSoonUnused(deps, key)) counts.unused_warnings++;
      }),
    () =>
      pass(deps, run, (page) => listExpiringKeys(deps.db, { ...page, windowMs: REMINDER_WINDOW_MS }), async (key) => {
        if (await remindExpiring(deps, key, REMINDER_WINDOW_MS)) counts.expiring++;
      }),
    () =>
      pass(deps, run, (page) => listExpiredKeys(deps.db, { ...page, lookbackMs: EXPIRED_LOOKBACK_MS }), async (key) => {
        if (await reportExpired(deps, key)) counts.expired++;
      }),
  ];
  for (const next of passes) {
    if (!(await next())) break;
  }
  return counts;
}

export interface KeyPoliciesJobDeps extends KeyPoliciesDeps {
  /** keyPolicyIntervalMs: how often it runs (SCOPE_AUTH_KEY_POLICY_INTERVAL_MS), so a key is revoked, or reminded of, at most this late. */
  readonly config: { readonly keyPolicyIntervalMs: number };
}

/** The sweeper as a periodic job; createServices registers it. Tests give a holder and call runOnce. */
export function createKeyPoliciesJob(deps: KeyPoliciesJobDeps, options: { holder?: string } = {}): PeriodicJob {
  return createPeriodicJob({
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger,
    name: KEY_POLICIES_JOB,
    intervalMs: deps.config.keyPolicyIntervalMs,
    ...(options.holder === undefined ? {} : { holder: options.holder }),
    async run(run) {
      const counts = await sweepKeyPolicies(deps, run);
      deps.metrics?.keyPolicies(counts);
      const acted = Object.values(counts).some((n) => n > 0);
      deps.logger[acted ? 'info' : 'debug']({ job: KEY_POLICIES_JOB, ...counts }, 'key policies swept');
    },
  });
}
