// Prometheus metrics, on a registry of their own so every app (and every test) is independent.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExchangeObserver } from '../domain/exchange.js';

export interface Metrics {
  readonly registry: Registry;
  readonly observer: ExchangeObserver;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'scope_auth_' });
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
  return {
    registry,
    observer: {
      exchange(outcome, seconds) {
        exchanges.inc({ outcome });
        exchangeSeconds.observe({ outcome }, seconds);
      },
      argon2(seconds) {
        argon2Seconds.observe(seconds);
      },
    },
  };
}
