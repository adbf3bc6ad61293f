// Prometheus metrics, on a registry of their own so every app (and every test) is independent.
// The process's own metrics have prom-client's standard names (process_*, nodejs_*), which
// the usual Node.js dashboards and alerts expect; this server's are scope_auth_*.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExchangeObserver } from '../domain/exchange.js';
import type { SweepCounts } from '../domain/key-policies.js';
import { packageVersion } from '../version.js';
import { createRequestDurations } from './request-durations.js';

export interface Metrics {
  readonly registry: Registry;
  readonly observer: ExchangeObserver;
  /** The Content-Type of render()'s text. */
  readonly contentType: string;
  /** Every metric in the Prometheus text format: the registry's and the request durations. */
  render(): Promise<string>;
  /** Called once a response has been sent, with the time since the request arrived. */
  requestFinished(req: IncomingMessage, res: ServerResponse, seconds: number): void;
  /** Fed by the argon2 queue whenever the number of waiting verifications changes. */
  argon2QueueDepth(waiting: number): void;
  /** A connection closed on arrival because SCOPE_AUTH_MAX_CONNECTIONS were open. */
  connectionDropped(): void;
  /** What a run of the key-policy sweeper did (domain/key-policies.ts). */
  keyPolicies(counts: SweepCounts): void;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'scope_auth_build_info',
    help: 'Always 1; the labels say which version of scope-auth runs on which Node.js',
    labelNames: ['version', 'node'] as const,
    registers: [registry],
  }).set({ version: packageVersion(), node: process.version }, 1);
  const requests = createRequestDurations();
  const exchanges = new Counter({
    name: 'scope_auth_token_exchanges_total',
    help: 'Token exchanges by outcome (issued, invalid_client, invalid_scope, throttled, unavailable)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const exchangeSeconds = new Histogram({
    name: 'scope_auth_token_exchange_duration_seconds',
    help: 'Time to answer a token exchange, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const argon2Seconds = new Histogram({
    name: 'scope_auth_argon2_verify_duration_seconds',
    help: 'Time spent in argon2id verification per exchange',
    buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const argon2Waiting = new Gauge({
    name: 'scope_auth_argon2_queue_depth',
    help: 'argon2 verifications waiting for a slot (beyond SCOPE_AUTH_ARGON2_QUEUE_LIMIT exchanges answer 503)',
    registers: [registry],
  });
  const verifiedCache = new Counter({
    name: 'scope_auth_verified_cache_lookups_total',
    help: 'Exchanges of a known key by whether its secret was already verified (hit: argon2 skipped)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const connectionsDropped = new Counter({
    name: 'scope_auth_connections_dropped_total',
    help: 'Connections closed on arrival because SCOPE_AUTH_MAX_CONNECTIONS connections were open',
    registers: [registry],
  });
  const keyPolicyActions = new Counter({
    name: 'scope_auth_key_policy_actions_total',
    help: 'What the key-policy sweeper did on this instance: keys revoked as unused, kept as the root org’s last admin, reminders sent (unused_warnings, expiring, expired)',
    labelNames: ['action'] as const,
    registers: [registry],
  });
  return {
    registry,
    contentType: registry.contentType,
    async render() {
      return `${await registry.metrics()}\n${requests.render()}`;
    },
    requestFinished(req, res, seconds) {
      requests.observe(req.method, res, seconds);
    },
    argon2QueueDepth(waiting) {
      argon2Waiting.set(waiting);
    },
    connectionDropped() {
      connectionsDropped.inc();
    },
    keyPolicies(counts) {
      for (const [action, n] of Object.entries(counts)) if (n > 0) keyPolicyActions.inc({ action }, n);
    },
    observer: {
      exchange(outcome, seconds) {
        exchanges.inc({ outcome });
        exchangeSeconds.observe({ outcome }, seconds);
      },
      argon2(seconds) {
        argon2Seconds.observe(seconds);
      },
      verifiedCache(hit) {
        verifiedCache.inc({ result: hit ? 'hit' : 'miss' });
      },
    },
  };
}
