// The settings of webhook deliveries: where a webhook may point (the SSRF guard's two
// switches) and how often the deliverer looks for due deliveries. config.ts reads the
// variables with its own readers; the defaults are here, with why.

export interface WebhooksConfig {
  /** SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP: `http://` URLs to loopback addresses (tests, a receiver on the same host); and loopback addresses at all. */
  readonly allowHttp: boolean;
  /** SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE: private, loopback, link-local, unique-local and CGNAT addresses (a receiver inside the operator's network). */
  readonly allowPrivate: boolean;
  /** SCOPE_AUTH_WEBHOOKS_POLL_INTERVAL_MS: how often the deliverer looks for due deliveries, so an event goes out within about this long. */
  readonly pollIntervalMs: number;
  /** One attempt's limit, connecting and answering together. */
  readonly timeoutMs: number;
}

export const WEBHOOKS_DEFAULTS = {
  // Off: only https:// URLs. On: also http:// to a loopback address, and loopback addresses at all.
  SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP: 'false',
  // Off: never to a private, loopback, link-local, unique-local, CGNAT, multicast or unspecified address.
  SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE: 'false',
  // An event leaves within about a second; each look is one small indexed query.
  SCOPE_AUTH_WEBHOOKS_POLL_INTERVAL_MS: '1000',
} as const;

export type WebhooksEnvName = keyof typeof WEBHOOKS_DEFAULTS;

export const WEBHOOK_POLL_INTERVAL_LIMITS = [100, 60_000] as const;

/** The Standard Webhooks recommendation, and what a receiver that answers at all needs. */
const TIMEOUT_MS = 10_000;

/** `flag(name)` and `int(name, min, max)` read one variable each (throwing for a bad one). */
export function webhooksConfig(read: {
  flag: (name: WebhooksEnvName) => boolean;
  int: (name: WebhooksEnvName, min: number, max: number) => number;
}): WebhooksConfig {
  return Object.freeze({
    allowHttp: read.flag('SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP'),
    allowPrivate: read.flag('SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE'),
    pollIntervalMs: read.int('SCOPE_AUTH_WEBHOOKS_POLL_INTERVAL_MS', ...WEBHOOK_POLL_INTERVAL_LIMITS),
    timeoutMs: TIMEOUT_MS,
  });
}
