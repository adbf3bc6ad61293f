// The only module that reads process.env (main.ts passes it in). Every default lives in
// DEFAULTS below; .env.example mirrors it line for line.
import { isListenHost, parseTrustProxy, type TrustProxy } from './config-network.js';
import { ConfigError } from './config-error.js';
import { databaseUrl, kek } from './config-secrets.js';
import { peopleConfig, type PeopleConfig } from './config-people.js';
import { CONSOLE_SWITCH_EXPECTED, consoleSwitch } from './config-console.js';
import { LEAK_REPORTS_PER_MINUTE_MAX, leaksConfig } from './config-leaks.js';
import { WEBHOOKS_DEFAULTS, webhooksConfig, type WebhooksConfig } from './config-webhooks.js';
import { availableParallelism } from 'node:os';
import { LOG_LEVELS, SIGNING_ALGS, type Config } from './config-shape.js';

export { SIGNING_ALGS } from './config-shape.js';
export type { Config, LogLevel, SigningAlg } from './config-shape.js';
export type { TrustProxy } from './config-network.js';

/** Every default, in one place. */
export const DEFAULTS = {
  SCOPE_AUTH_HOST: '127.0.0.1',
  SCOPE_AUTH_PORT: '8080',
  SCOPE_AUTH_ISSUER: 'http://localhost:8080',
  SCOPE_AUTH_AUDIENCE: '', // empty: the issuer
  SCOPE_AUTH_DATABASE_URL: 'sqlite:db/scope-auth.sqlite',
  SCOPE_AUTH_DATABASE_URL_FILE: '', // else a file holding the URL (container secrets); not with SCOPE_AUTH_DATABASE_URL
  SCOPE_AUTH_DATABASE_POOL_SIZE: '10',
  SCOPE_AUTH_DATABASE_CONNECT_TIMEOUT: '60',
  SCOPE_AUTH_DATABASE_ACQUIRE_TIMEOUT_MS: '3000',
  SCOPE_AUTH_DATABASE_STATEMENT_TIMEOUT_MS: '5000',
  SCOPE_AUTH_SHUTDOWN_GRACE: '10',
  SCOPE_AUTH_MAX_CONNECTIONS: '1000',
  SCOPE_AUTH_REQUEST_TIMEOUT: '30',
  SCOPE_AUTH_KEK: '', // empty: keys/kek, created 0600 on first start
  SCOPE_AUTH_KEK_FILE: '', // else a file holding the KEK (container secrets); not with SCOPE_AUTH_KEK
  SCOPE_AUTH_KEYS_DIR: 'keys',
  SCOPE_AUTH_SIGNING_ALG: 'ES256',
  SCOPE_AUTH_SIGNING_KEY_ROTATION_DAYS: '30',
  SCOPE_AUTH_TOKEN_TTL: '900',
  SCOPE_AUTH_TOKEN_TTL_MAX: '3600',
  SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS: '', // empty: keys may live forever
  SCOPE_AUTH_ARGON2_MEMORY_KIB: '19456',
  SCOPE_AUTH_ARGON2_TIME_COST: '2',
  SCOPE_AUTH_ARGON2_PARALLELISM: '1',
  SCOPE_AUTH_ARGON2_CONCURRENCY: '', // empty: one per CPU, at most libuv's threadpool size (UV_THREADPOOL_SIZE, 4)
  SCOPE_AUTH_ARGON2_QUEUE_LIMIT: '64',
  SCOPE_AUTH_VERIFIED_CACHE_SIZE: '10000', // 0: off, every exchange runs argon2
  SCOPE_AUTH_VERIFIED_CACHE_TTL: '3600',
  SCOPE_AUTH_THROTTLE_KEY_FAILURES: '10',
  SCOPE_AUTH_THROTTLE_IP_FAILURES: '100',
  SCOPE_AUTH_CATALOG: '', // empty: src/catalog/default-scopes.json
  SCOPE_AUTH_ORG_DEFAULT_SCOPES: '', // empty: every non-admin scope of the catalogue
  SCOPE_AUTH_TRUST_PROXY: 'false',
  SCOPE_AUTH_METRICS_PORT: '', // empty: /metrics on SCOPE_AUTH_PORT
  SCOPE_AUTH_METRICS_HOST: '127.0.0.1', // only with SCOPE_AUTH_METRICS_PORT
  SCOPE_AUTH_LOG_LEVEL: 'info',
  // People (config-people.ts), in seconds.
  SCOPE_AUTH_INVITATION_TTL: '259200', // 72 h: invitation and password-reset links
  SCOPE_AUTH_SESSION_IDLE: '1800', // 30 min without a request ends a session
  SCOPE_AUTH_SESSION_MAX: '43200', // 12 h after sign-in at most
  SCOPE_AUTH_CONSOLE: 'true', // false: no admin console at /console
  // The key-policy sweeper (domain/key-policies.ts): unused keys revoked, expiry reminders sent.
  SCOPE_AUTH_KEY_POLICY_INTERVAL_MS: '300000', // 5 min: each run is a few indexed queries over every org's keys
  // Leak reports, POST /v1/leaks (config-leaks.ts).
  SCOPE_AUTH_LEAK_REPORT_KEYS: '', // empty: signatures on reports are not checked; else a file of GitHub's (or PEM) public keys
  SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE: '10', // per client address; reports GitHub signed are not counted
  // Webhooks (config-webhooks.ts).
  ...WEBHOOKS_DEFAULTS,
} as const;

export type EnvName = keyof typeof DEFAULTS;

export { ConfigError };

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: EnvName): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? DEFAULTS[name] : value.trim();
}

function int(env: Env, name: EnvName, min: number, max: number): number {
  const raw = read(env, name);
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected a whole number from ${min} to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: EnvName, allowed: readonly T[]): T {
  const raw = read(env, name);
  const found = allowed.find((candidate) => candidate.toLowerCase() === raw.toLowerCase());
  if (!found) throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected one of ${allowed.join(', ')}`);
  return found;
}

function url(env: Env, name: EnvName, what: string): string {
  const raw = read(env, name);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected ${what}`);
  }
  if (!['http:', 'https:'].includes(parsed.protocol) || parsed.search || parsed.hash) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected ${what}`);
  }
  return raw.replace(/\/+$/, '');
}

function host(env: Env, name: 'SCOPE_AUTH_HOST' | 'SCOPE_AUTH_METRICS_HOST'): string {
  const raw = read(env, name);
  if (isListenHost(raw)) return raw;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: expected an IP address (127.0.0.1, 0.0.0.0, ::) or a host name`);
}

/** A listener of its own for /metrics, so that the proxy in front of the API never exposes it. */
function metricsListener(env: Env, apiPort: number): Config['metrics'] {
  if (read(env, 'SCOPE_AUTH_METRICS_PORT') === '') return null;
  const port = int(env, 'SCOPE_AUTH_METRICS_PORT', 0, 65_535);
  if (port !== 0 && port === apiPort) throw new ConfigError(`SCOPE_AUTH_METRICS_PORT=${port} is invalid: it must differ from SCOPE_AUTH_PORT`);
  return Object.freeze({ host: host(env, 'SCOPE_AUTH_METRICS_HOST'), port });
}

function trustProxy(env: Env): TrustProxy {
  const raw = read(env, 'SCOPE_AUTH_TRUST_PROXY');
  const parsed = parseTrustProxy(raw);
  if (parsed !== null) return parsed;
  throw new ConfigError(
    `SCOPE_AUTH_TRUST_PROXY=${JSON.stringify(raw)} is invalid: expected false, true, a hop count, or a comma-separated list of IP addresses, subnets, loopback, linklocal or uniquelocal`,
  );
}

/** Scope names as the catalogue spells them; whether the catalogue has them is checked at startup, once it is loaded. */
function orgDefaultScopes(env: Env): readonly string[] {
  const raw = read(env, 'SCOPE_AUTH_ORG_DEFAULT_SCOPES');
  const scopes = raw.split(/\s+/).filter(Boolean);
  if (scopes.every((s) => /^[a-z][a-z0-9_.-]{0,63}(:[a-z0-9_.-]{1,64})?$/.test(s))) return Object.freeze([...new Set(scopes)]);
  throw new ConfigError(
    `SCOPE_AUTH_ORG_DEFAULT_SCOPES=${JSON.stringify(raw)} is invalid: expected space-separated scopes of the catalogue such as "agents:view runtime:run", or empty for every non-admin scope`,
  );
}

/** The default argon2 concurrency's ceiling: libuv's default threadpool size, and 4 × 19 MiB of argon2 memory. */
const DEFAULT_ARGON2_CONCURRENCY_MAX = 4;

/**
 * argon2 is pure CPU: more verifications at once than cores only stretch each one (and hold
 * 19 MiB apiece), and more than libuv's threadpool has threads only queue inside libuv,
 * out of sight of the bounded queue. bin/serve.cjs (`npm start`) sizes the pool to this
 * default plus one before the pool starts, and keeps the same rule.
 */
function argon2Concurrency(env: Env): number {
  if (read(env, 'SCOPE_AUTH_ARGON2_CONCURRENCY') !== '') return int(env, 'SCOPE_AUTH_ARGON2_CONCURRENCY', 1, 1024);
  const pool = Number(env.UV_THREADPOOL_SIZE);
  const threads = Number.isInteger(pool) && pool >= 1 && pool <= 1024 ? pool : 4;
  return Math.max(1, Math.min(availableParallelism(), DEFAULT_ARGON2_CONCURRENCY_MAX, threads));
}

/**
 * Headers are a few KiB at most, so 10 s is ample on any link, and a request body of at most
 * 64 KiB arrives within the 30 s default at 2.2 KiB/s. The keep-alive timeout stays Node's
 * 5 s: the drain on SIGTERM relies on it being announced to clients (see server.ts).
 */
const HEADERS_TIMEOUT_SECONDS = 10;
const KEEP_ALIVE_TIMEOUT_SECONDS = 5;

function httpLimits(env: Env): Config['http'] {
  const requestTimeoutSeconds = int(env, 'SCOPE_AUTH_REQUEST_TIMEOUT', 1, 3600);
  return Object.freeze({
    maxConnections: int(env, 'SCOPE_AUTH_MAX_CONNECTIONS', 1, 1_000_000),
    requestTimeoutSeconds,
    headersTimeoutSeconds: Math.min(HEADERS_TIMEOUT_SECONDS, requestTimeoutSeconds),
    keepAliveTimeoutSeconds: KEEP_ALIVE_TIMEOUT_SECONDS,
  });
}

/** Parses and validates the environment once; throws ConfigError naming the variable on a bad value. */
export function loadConfig(env: Env): Config {
  const issuer = url(env, 'SCOPE_AUTH_ISSUER', 'an http(s) URL without query or fragment, e.g. https://auth.example.com');
  const audience = read(env, 'SCOPE_AUTH_AUDIENCE') || issuer;
  const tokenTtlMaxSeconds = int(env, 'SCOPE_AUTH_TOKEN_TTL_MAX', 60, 86_400);
  // An operator who lowers only the maximum gets a default lifetime lowered with it.
  const ttlGiven = (env.SCOPE_AUTH_TOKEN_TTL ?? '').trim() !== '';
  const tokenTtlSeconds = ttlGiven
    ? int(env, 'SCOPE_AUTH_TOKEN_TTL', 60, 86_400)
    : Math.min(Number(DEFAULTS.SCOPE_AUTH_TOKEN_TTL), tokenTtlMaxSeconds);
  if (tokenTtlSeconds > tokenTtlMaxSeconds) {
    throw new ConfigError(
      `SCOPE_AUTH_TOKEN_TTL=${tokenTtlSeconds} is invalid: it must not exceed SCOPE_AUTH_TOKEN_TTL_MAX (${tokenTtlMaxSeconds})`,
    );
  }
  const maxLifetime = read(env, 'SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS');
  const catalogPath = read(env, 'SCOPE_AUTH_CATALOG');
  const port = int(env, 'SCOPE_AUTH_PORT', 0, 65_535);
  return Object.freeze({
    host: host(env, 'SCOPE_AUTH_HOST'),
    port,
    issuer,
    audience,
    databaseUrl: databaseUrl(env, DEFAULTS.SCOPE_AUTH_DATABASE_URL),
    database: Object.freeze({
      poolSize: int(env, 'SCOPE_AUTH_DATABASE_POOL_SIZE', 1, 1000),
      connectTimeoutSeconds: int(env, 'SCOPE_AUTH_DATABASE_CONNECT_TIMEOUT', 0, 3600),
      acquireTimeoutMs: int(env, 'SCOPE_AUTH_DATABASE_ACQUIRE_TIMEOUT_MS', 100, 600_000),
      statementTimeoutMs: int(env, 'SCOPE_AUTH_DATABASE_STATEMENT_TIMEOUT_MS', 100, 600_000),
    }),
    shutdownGraceSeconds: int(env, 'SCOPE_AUTH_SHUTDOWN_GRACE', 0, 3600),
    http: httpLimits(env),
    kek: kek(env),
    keysDir: read(env, 'SCOPE_AUTH_KEYS_DIR'),
    signingAlg: oneOf(env, 'SCOPE_AUTH_SIGNING_ALG', SIGNING_ALGS),
    signingKeyRotationDays: int(env, 'SCOPE_AUTH_SIGNING_KEY_ROTATION_DAYS', 1, 3650),
    tokenTtlSeconds,
    tokenTtlMaxSeconds,
    keyMaxLifetimeDays: maxLifetime === '' ? null : int(env, 'SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS', 1, 36_500),
    argon2: Object.freeze({
      memoryKiB: int(env, 'SCOPE_AUTH_ARGON2_MEMORY_KIB', 1024, 4_194_304),
      timeCost: int(env, 'SCOPE_AUTH_ARGON2_TIME_COST', 1, 100),
      parallelism: int(env, 'SCOPE_AUTH_ARGON2_PARALLELISM', 1, 64),
      concurrency: argon2Concurrency(env),
      queueLimit: int(env, 'SCOPE_AUTH_ARGON2_QUEUE_LIMIT', 0, 1_000_000),
    }),
    verifiedCache: Object.freeze({
      maxEntries: int(env, 'SCOPE_AUTH_VERIFIED_CACHE_SIZE', 0, 10_000_000),
      maxAgeSeconds: int(env, 'SCOPE_AUTH_VERIFIED_CACHE_TTL', 1, 86_400),
    }),
    throttle: Object.freeze({
      keyFailuresPerMinute: int(env, 'SCOPE_AUTH_THROTTLE_KEY_FAILURES', 1, 1_000_000),
      ipFailuresPerMinute: int(env, 'SCOPE_AUTH_THROTTLE_IP_FAILURES', 1, 1_000_000),
    }),
    catalogPath: catalogPath === '' ? null : catalogPath,
    orgDefaultScopes: orgDefaultScopes(env),
    trustProxy: trustProxy(env),
    metrics: metricsListener(env, port),
    logLevel: oneOf(env, 'SCOPE_AUTH_LOG_LEVEL', LOG_LEVELS),
    jwksMaxAgeSeconds: 300,
    keyringRefreshSeconds: 5,
    lastUsedFlushMs: 1000,
    tokenTtlMinSeconds: 60,
    keyPolicyIntervalMs: int(env, 'SCOPE_AUTH_KEY_POLICY_INTERVAL_MS', 1000, 3_600_000),
    people: people(env),
    console: consoleSwitch(read(env, 'SCOPE_AUTH_CONSOLE')) ?? invalid('SCOPE_AUTH_CONSOLE', read(env, 'SCOPE_AUTH_CONSOLE'), CONSOLE_SWITCH_EXPECTED),
    leaks: leaksConfig(read(env, 'SCOPE_AUTH_LEAK_REPORT_KEYS'), int(env, 'SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE', 1, LEAK_REPORTS_PER_MINUTE_MAX)),
    webhooks: webhooks(env),
  });
}

function webhooks(env: Env): WebhooksConfig {
  return webhooksConfig({
    flag: (name) => consoleSwitch(read(env, name)) ?? invalid(name, read(env, name), CONSOLE_SWITCH_EXPECTED),
    int: (name, min, max) => int(env, name, min, max),
  });
}

function invalid(name: EnvName, raw: string, expected: string): never {
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is invalid: ${expected}`);
}

function people(env: Env): PeopleConfig {
  const settings = peopleConfig((name, min, max) => int(env, name, min, max));
  if (typeof settings === 'string') throw new ConfigError(settings);
  return settings;
}
