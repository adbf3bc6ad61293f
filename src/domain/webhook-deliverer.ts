// The deliverer: a periodic job (one instance at a time on PostgreSQL) that takes the due
// deliveries from the outbox, oldest first, a bounded batch at a time and a few at once,
// and POSTs each with the Standard Webhooks headers, signed with its webhook's secret. A 2xx
// settles it as delivered; anything else waits for the next attempt (webhook-schedule.ts)
// until 24 hours have passed, then it has failed. Each claimed row is its own until settled,
// so even two deliverers running at once (a lease outlived) never attempt one row twice.
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import type { WebhooksConfig } from '../config-webhooks.js';
import type { Db } from '../store/database.js';
import { claimDeliveries, dueDeliveryIds, pruneDeliveries, settleDelivery, type DeliveryOutcome, type DeliveryRow } from '../store/webhook-deliveries.js';
import { getWebhook, type WebhookRecord } from '../store/webhooks.js';
import { packageVersion } from '../version.js';
import type { Clock } from './clock.js';
import { createPeriodicJob, type JobRun, type PeriodicJob } from './periodic-job.js';
import { nextAttemptAt } from './webhook-schedule.js';
import { openWebhookSecret } from './webhook-secrets.js';
import { createSender, type Resolver, type Sender } from './webhook-sender.js';

export const DELIVERER_JOB = 'webhook-deliveries';

const BATCH_SIZE = 32;
const CONCURRENCY = 8;
/** Batches in one run at most; the lease is renewed between them, and the next run goes on. */
const BATCHES_PER_RUN = 10;
/** A claim outlives an attempt's time limit by this much, so it never runs out while the attempt is still going. */
const CLAIM_MARGIN_MS = 30_000;
/** Delivered and failed deliveries are kept this long for the deliveries list, then deleted. */
export const DELIVERY_RETENTION_MS = 30 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;
const PRUNE_BATCH = 1000;

export interface DelivererDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly kek: Buffer;
  readonly config: { readonly webhooks: WebhooksConfig };
}

export interface DelivererOptions {
  /** This instance's name in the lease (random by default). */
  readonly holder?: string;
  /** Replaces the HTTP sender (with `resolve` and `timeoutMs`, the tests' seams). */
  readonly send?: Sender;
  readonly resolve?: Resolver;
  readonly timeoutMs?: number;
  /** In [0, 1): the retries' jitter. */
  readonly random?: () => number;
}

export interface Deliverer {
  /** Delivers what is due now, batch by batch while `run` still holds the job; how many attempts it made. */
  deliverDue(run?: JobRun): Promise<number>;
  /** Ends the attempts in flight at once (each counts as failed, and is retried) and takes no more batches. */
  abort(): void;
}

const userAgent = () => `scope-auth/${packageVersion()} (webhooks)`;

/** A delivery whose webhook was disabled before it was made: it fails, with what earlier attempts left. */
function disabledOutcome(row: DeliveryRow): DeliveryOutcome {
  return {
    status: 'failed',
    attempts: row.attempts,
    next_attempt_at: null,
    last_attempt_at: row.last_attempt_at,
    last_status_code: row.last_status_code,
    last_response: row.last_response,
    last_error: 'the webhook was disabled before this delivery was made',
    delivered_at: null,
  };
}

export function createDeliverer(deps: DelivererDeps, options: DelivererOptions = {}): Deliverer {
  const { db, clock, logger, kek } = deps;
  const timeoutMs = options.timeoutMs ?? deps.config.webhooks.timeoutMs;
  const resolve = options.resolve === undefined ? {} : { resolve: options.resolve };
  const send = options.send ?? createSender({ policy: deps.config.webhooks, timeoutMs, ...resolve });
  const random = options.random ?? Math.random;
  const agent = userAgent();
  const stopping = new AbortController();
  let prunedAt = -Infinity;

  /** What one attempt of `row` to `webhook` comes to, starting at `startedAt`. */
  async function tryOnce(row: DeliveryRow, webhook: WebhookRecord, startedAt: number): Promise<DeliveryOutcome> {
    const attempts = row.attempts + 1;
    const retry = (fields: Pick<DeliveryOutcome, 'last_status_code' | 'last_response' | 'last_error'>): DeliveryOutcome => {
      const next = nextAttemptAt(row.created_at, clock.now(), attempts, random);
      return { status: next === null ? 'failed' : 'pending', attempts, next_attempt_at: next, last_attempt_at: startedAt, delivered_at: null, ...fields };
    };
    let signature: string;
    try {
      signature = new Webhook(openWebhookSecret(kek, webhook.id, webhook.secret_encrypted)).sign(row.event_id, new Date(startedAt), row.payload);
    } catch (error) {
      logger.error({ webhook_id: webhook.id, err: { message: (error as Error).message } }, 'cannot sign a webhook delivery');
      return retry({ last_status_code: null, last_response: null, last_error: 'the server could not open the signing secret (its key-encryption key)' });
    }
    const result = await send({
      url: webhook.url,
      body: row.payload,
      signal: stopping.signal,
      headers: {
        'content-type': 'application/json',
        'user-agent': agent,
        'webhook-id': row.event_id,
        'webhook-timestamp': String(Math.floor(startedAt / 1000)),
        'webhook-signature': signature,
      },
    });
    if (result.statusCode === null) return retry({ last_status_code: null, last_response: null, last_error: result.error });
    if (result.statusCode < 200 || result.statusCode >= 300) {
      return retry({ last_status_code: result.statusCode, last_response: result.body, last_error: `the receiver answered ${result.statusCode}` });
    }
    return {
      status: 'delivered',
      attempts,
      next_attempt_at: null,
      last_attempt_at: startedAt,
      delivered_at: clock.now(),
      last_status_code: result.statusCode,
      last_response: result.body,
      last_error: null,
    };
  }

  async function attempt(row: DeliveryRow, claimedUntil: number): Promise<void> {
    const startedAt = clock.now();
    const webhook = await getWebhook(db, row.org_id, row.webhook_id);
    // Deleted meanwhile: its deliveries went with it.
    if (webhook === undefined) return;
    const outcome = webhook.disabled_at === null ? await tryOnce(row, webhook, startedAt) : disabledOutcome(row);
    const settled = await settleDelivery(db, { orgId: row.org_id, id: row.id, claimedUntil }, outcome);
    const log = { delivery_id: row.id, webhook_id: row.webhook_id, event_type: row.event_type, attempts: outcome.attempts, status: outcome.status, status_code: outcome.last_status_code };
    if (!settled) logger.warn(log, 'webhook delivery settled by another deliverer meanwhile');
    else if (outcome.status === 'failed') logger.warn({ ...log, error: outcome.last_error }, 'webhook delivery failed for good');
    else if (outcome.status === 'pending') logger.info({ ...log, error: outcome.last_error }, 'webhook delivery attempt failed; will retry');
  }

  async function inParallel(rows: readonly DeliveryRow[], claimedUntil: number): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        try {
          await attempt(row, claimedUntil);
        } catch (error) {
          // The claim stays: the row is tried again once it runs out.
          logger.error({ delivery_id: row.id, err: error }, 'webhook delivery attempt could not be recorded');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rows.length) }, worker));
  }

  async function prune(): Promise<void> {
    const now = clock.now();
    if (now - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = now;
    const deleted = await pruneDeliveries(db, now - DELIVERY_RETENTION_MS, PRUNE_BATCH);
    if (deleted > 0) logger.info({ deleted }, 'deleted old webhook deliveries');
  }

  return {
    async deliverDue(run) {
      await prune();
      let made = 0;
      for (let batch = 0; batch < BATCHES_PER_RUN && !stopping.signal.aborted; batch++) {
        const now = clock.now();
        const claimedUntil = now + timeoutMs + CLAIM_MARGIN_MS;
        const rows = await claimDeliveries(db, await dueDeliveryIds(db, now, BATCH_SIZE), now, claimedUntil);
        await inParallel(rows, claimedUntil);
        made += rows.length;
        if (rows.length < BATCH_SIZE) break;
        if (run !== undefined && !(await run.stillHolder())) break;
      }
      return made;
    },
    abort() {
      stopping.abort();
    },
  };
}

/** The deliverer as the server runs it: every SCOPE_AUTH_WEBHOOKS_POLL_INTERVAL_MS, one instance at a time. */
export function createWebhookDeliverer(deps: DelivererDeps, options: DelivererOptions = {}): PeriodicJob {
  const deliverer = createDeliverer(deps, options);
  const timeoutMs = options.timeoutMs ?? deps.config.webhooks.timeoutMs;
  const job = createPeriodicJob({
    db: deps.db,
    clock: deps.clock,
    logger: deps.logger,
    name: DELIVERER_JOB,
    intervalMs: deps.config.webhooks.pollIntervalMs,
    // Longer than a batch can take (a few rounds of attempts at the time limit each).
    leaseMs: Math.max(120_000, 3 * (timeoutMs + CLAIM_MARGIN_MS)),
    ...(options.holder === undefined ? {} : { holder: options.holder }),
    run: async (run) => {
      await deliverer.deliverDue(run);
    },
  });
  // A stopping server does not wait for receivers: what was in flight is tried again later.
  return {
    ...job,
    async stop() {
      deliverer.abort();
      await job.stop();
    },
  };
}
