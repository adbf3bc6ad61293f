// The shape of the configuration: what loadConfig (config.ts) returns, with the closed
// sets of values some variables take. No reading of the environment here.
import type { TrustProxy } from './config-network.js';
import type { LeaksConfig } from './config-leaks.js';
import type { PeopleConfig } from './config-people.js';
import type { WebhooksConfig } from './config-webhooks.js';

export const SIGNING_ALGS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly host: string;
  readonly port: number;
  /** No trailing slash; equals the `iss` claim and the RFC 8414 `issuer`. */
  readonly issuer: string;
  readonly audience: string;
  readonly databaseUrl: string;
  readonly database: {
    /** PostgreSQL connections per process. */
    readonly poolSize: number;
    /** How long startup keeps retrying an unreachable database before it gives up. */
    readonly connectTimeoutSeconds: number;
    /** How long a query waits for a pooled connection before the request fails with 503. */
    readonly acquireTimeoutMs: number;
    /** How long one statement may run before PostgreSQL cancels it (and the request fails with 503). */
    readonly statementTimeoutMs: number;
  };
  /** After SIGTERM, how long requests in flight may take before their connections are closed. */
  readonly shutdownGraceSeconds: number;
  /** The Node HTTP server's bounds on connections and on how long a client may take. */
  readonly http: {
    /** Open connections at most; a connection beyond it is closed as soon as it is accepted. */
    readonly maxConnections: number;
    /** A whole request, headers and body, must arrive within this; else 408 and the connection closes. */
    readonly requestTimeoutSeconds: number;
    /** The headers of a request must arrive within this (never more than the request timeout). */
    readonly headersTimeoutSeconds: number;
    /** An idle keep-alive connection is closed after this; announced in the Keep-Alive header. */
    readonly keepAliveTimeoutSeconds: number;
  };
  /** 32 bytes when SCOPE_AUTH_KEK is set; otherwise the kek is read from (or created in) keysDir. */
  readonly kek: Buffer | null;
  readonly keysDir: string;
  readonly signingAlg: SigningAlg;
  readonly signingKeyRotationDays: number;
  readonly tokenTtlSeconds: number;
  readonly tokenTtlMaxSeconds: number;
  readonly keyMaxLifetimeDays: number | null;
  readonly argon2: {
    readonly memoryKiB: number;
    readonly timeCost: number;
    readonly parallelism: number;
    /** argon2 verifications run at once; more wait in a queue. */
    readonly concurrency: number;
    /** Verifications allowed to wait; beyond it an exchange answers 503 with Retry-After at once. */
    readonly queueLimit: number;
  };
  /** Secrets recently verified with argon2 (as keyed MACs); size 0 turns the cache off. */
  readonly verifiedCache: { readonly maxEntries: number; readonly maxAgeSeconds: number };
  readonly throttle: { readonly keyFailuresPerMinute: number; readonly ipFailuresPerMinute: number };
  readonly catalogPath: string | null;
  /** The allowance of new orgs (SCOPE_AUTH_ORG_DEFAULT_SCOPES); empty: every non-admin scope. Checked against the catalogue at startup. */
  readonly orgDefaultScopes: readonly string[];
  readonly trustProxy: TrustProxy;
  /** Where /metrics is served apart from the API (SCOPE_AUTH_METRICS_PORT); null: on the main port. */
  readonly metrics: { readonly host: string; readonly port: number } | null;
  readonly logLevel: LogLevel;
  /** Seconds downstream caches may keep the JWKS; also how long a new signing key is published before it signs. */
  readonly jwksMaxAgeSeconds: number;
  /** How often a running server re-reads the signing keys written by other processes. */
  readonly keyringRefreshSeconds: number;
  /** How often batched last-used updates are written. */
  readonly lastUsedFlushMs: number;
  /** Token lifetime floor (DESIGN: never below 60 s). */
  readonly tokenTtlMinSeconds: number;
  /** SCOPE_AUTH_KEY_POLICY_INTERVAL_MS: how often the key-policy sweeper runs, so a key is revoked, or reminded of, at most this late. */
  readonly keyPolicyIntervalMs: number;
  /** People: invitation links and sessions (config-people.ts). */
  readonly people: PeopleConfig;
  /** SCOPE_AUTH_CONSOLE: the admin console at /console (config-console.ts). */
  readonly console: boolean;
  /** Leak reports, POST /v1/leaks: the keys of their signatures and the throttle (config-leaks.ts). */
  readonly leaks: LeaksConfig;
  /** Webhooks: the SSRF guard's switches and the deliverer's pace (config-webhooks.ts). */
  readonly webhooks: WebhooksConfig;
}
