import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig, type EnvName } from '../src/config.js';
import { configErrorOf } from './helpers/config-error.js';

describe('loadConfig', () => {
  it("defaults to DESIGN's values with an empty environment", () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 8080,
      issuer: 'http://localhost:8080',
      audience: 'http://localhost:8080',
      databaseUrl: 'sqlite:db/scope-auth.sqlite',
      database: { poolSize: 10, connectTimeoutSeconds: 60, acquireTimeoutMs: 3000, statementTimeoutMs: 5000 },
      shutdownGraceSeconds: 10,
      http: { maxConnections: 1000, requestTimeoutSeconds: 30, headersTimeoutSeconds: 10, keepAliveTimeoutSeconds: 5 },
      kek: null,
      keysDir: 'keys',
      signingAlg: 'ES256',
      signingKeyRotationDays: 30,
      tokenTtlSeconds: 900,
      tokenTtlMaxSeconds: 3600,
      keyMaxLifetimeDays: null,
      argon2: { memoryKiB: 19456, timeCost: 2, parallelism: 1, concurrency: Math.min(availableParallelism(), 4), queueLimit: 64 },
      verifiedCache: { maxEntries: 10000, maxAgeSeconds: 3600 },
      throttle: { keyFailuresPerMinute: 10, ipFailuresPerMinute: 100 },
      catalogPath: null,
      orgDefaultScopes: [],
      trustProxy: false,
      metrics: null,
      logLevel: 'info',
      jwksMaxAgeSeconds: 300,
      keyringRefreshSeconds: 5,
      lastUsedFlushMs: 1000,
      tokenTtlMinSeconds: 60,
      keyPolicyIntervalMs: 300_000,
      people: { invitationTtlSeconds: 259_200, sessionIdleSeconds: 1800, sessionMaxSeconds: 43_200 },
      console: true,
      leaks: { reportKeysFile: null, reportKeys: [], reportsPerMinute: 10 },
      webhooks: { allowHttp: false, allowPrivate: false, pollIntervalMs: 1000, timeoutMs: 10_000 },
    });
  });

  it('runs one argon2 verification per CPU by default, at most 4 and at most as many as libuv has threads', () => {
    expect(loadConfig({ UV_THREADPOOL_SIZE: '1' }).argon2.concurrency).toBe(1);
    expect(loadConfig({ UV_THREADPOOL_SIZE: '64' }).argon2.concurrency).toBe(Math.min(availableParallelism(), 4));
    // What bin/serve.cjs sets: the default concurrency plus one thread.
    expect(loadConfig({ UV_THREADPOOL_SIZE: String(Math.min(availableParallelism(), 4) + 1) }).argon2.concurrency).toBe(Math.min(availableParallelism(), 4));
    expect(loadConfig({ UV_THREADPOOL_SIZE: 'lots' }).argon2.concurrency).toBe(Math.min(availableParallelism(), 4));
  });

  it('treats empty and blank variables as unset', () => {
    const blank = Object.fromEntries(Object.keys(DEFAULTS).map((name, i) => [name, i % 2 === 0 ? '' : '   ']));
    expect(loadConfig(blank)).toEqual(loadConfig({}));
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ PATH: '/usr/bin', SCOPE_AUTH_PORTT: 'x' })).toEqual(loadConfig({}));
  });

  it('reads every variable', () => {
    const kek = randomBytes(32);
    const config = loadConfig({
      SCOPE_AUTH_HOST: '0.0.0.0',
      SCOPE_AUTH_PORT: '9000',
      SCOPE_AUTH_ISSUER: 'https://auth.example.com/',
      SCOPE_AUTH_AUDIENCE: 'https://api.example.com',
      SCOPE_AUTH_DATABASE_URL: 'postgres://u:p@db:5432/auth',
      SCOPE_AUTH_MAX_CONNECTIONS: '5000',
      SCOPE_AUTH_REQUEST_TIMEOUT: '60',
      SCOPE_AUTH_KEK: kek.toString('base64'),
      SCOPE_AUTH_KEYS_DIR: '/var/lib/scope-auth',
      SCOPE_AUTH_SIGNING_ALG: 'eddsa',
      SCOPE_AUTH_SIGNING_KEY_ROTATION_DAYS: '7',
      SCOPE_AUTH_TOKEN_TTL: '300',
      SCOPE_AUTH_TOKEN_TTL_MAX: '600',
      SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS: '90',
      SCOPE_AUTH_ARGON2_MEMORY_KIB: '65536',
      SCOPE_AUTH_ARGON2_TIME_COST: '3',
      SCOPE_AUTH_ARGON2_PARALLELISM: '4',
      SCOPE_AUTH_ARGON2_CONCURRENCY: '2',
      SCOPE_AUTH_ARGON2_QUEUE_LIMIT: '0',
      SCOPE_AUTH_VERIFIED_CACHE_SIZE: '0',
      SCOPE_AUTH_VERIFIED_CACHE_TTL: '60',
      SCOPE_AUTH_THROTTLE_KEY_FAILURES: '5',
      SCOPE_AUTH_THROTTLE_IP_FAILURES: '50',
      SCOPE_AUTH_CATALOG: '/etc/scope-auth/scopes.json',
      SCOPE_AUTH_ORG_DEFAULT_SCOPES: ' runtime:run  agents:view runtime:run ',
      SCOPE_AUTH_TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::/8',
      SCOPE_AUTH_METRICS_PORT: '9464',
      SCOPE_AUTH_METRICS_HOST: '0.0.0.0',
      SCOPE_AUTH_LOG_LEVEL: 'DEBUG',
      SCOPE_AUTH_CONSOLE: 'off',
      SCOPE_AUTH_KEY_POLICY_INTERVAL_MS: '60000',
      SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP: 'true',
      SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE: 'yes',
      SCOPE_AUTH_WEBHOOKS_POLL_INTERVAL_MS: '2000',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      issuer: 'https://auth.example.com',
      audience: 'https://api.example.com',
      databaseUrl: 'postgres://u:p@db:5432/auth',
      http: { maxConnections: 5000, requestTimeoutSeconds: 60, headersTimeoutSeconds: 10, keepAliveTimeoutSeconds: 5 },
      keysDir: '/var/lib/scope-auth',
      signingAlg: 'EdDSA',
      signingKeyRotationDays: 7,
      tokenTtlSeconds: 300,
      tokenTtlMaxSeconds: 600,
      keyMaxLifetimeDays: 90,
      argon2: { memoryKiB: 65536, timeCost: 3, parallelism: 4, concurrency: 2, queueLimit: 0 },
      verifiedCache: { maxEntries: 0, maxAgeSeconds: 60 },
      throttle: { keyFailuresPerMinute: 5, ipFailuresPerMinute: 50 },
      catalogPath: '/etc/scope-auth/scopes.json',
      orgDefaultScopes: ['runtime:run', 'agents:view'],
      trustProxy: ['loopback', '10.0.0.0/8', 'fd00::/8'],
      metrics: { host: '0.0.0.0', port: 9464 },
      logLevel: 'debug',
      console: false,
      keyPolicyIntervalMs: 60_000,
      webhooks: { allowHttp: true, allowPrivate: true, pollIntervalMs: 2000, timeoutMs: 10_000 },
    });
    expect(config.kek?.equals(kek)).toBe(true);
  });

  it('never gives the headers longer than the whole request', () => {
    expect(loadConfig({ SCOPE_AUTH_REQUEST_TIMEOUT: '3' }).http).toMatchObject({ requestTimeoutSeconds: 3, headersTimeoutSeconds: 3 });
  });

  it('defaults the audience to the issuer, without its trailing slash', () => {
    expect(loadConfig({ SCOPE_AUTH_ISSUER: 'https://auth.example.com/' }).audience).toBe('https://auth.example.com');
  });

  it.each([
    ['false', false],
    ['0', false],
    ['true', true],
    ['2', 2],
    ['127.0.0.1', ['127.0.0.1']],
    ['::1, 192.168.0.0/16', ['::1', '192.168.0.0/16']],
  ])('reads SCOPE_AUTH_TRUST_PROXY=%j as %j', (raw, expected) => {
    expect(loadConfig({ SCOPE_AUTH_TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });

  it.each(['sqlite::memory:', 'sqlite:/var/lib/auth.sqlite', 'postgresql://db/auth'])('accepts the database URL %j', (url) => {
    expect(loadConfig({ SCOPE_AUTH_DATABASE_URL: url }).databaseUrl).toBe(url);
  });

  it('returns a frozen configuration', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.argon2)).toBe(true);
    expect(Object.isFrozen(config.throttle)).toBe(true);
    expect(Object.isFrozen(config.verifiedCache)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  describe('refuses a bad value with a message naming the variable and what it accepts', () => {
    const cases: Array<[EnvName, string, string | RegExp, Record<string, string>?]> = [
      ['SCOPE_AUTH_PORT', '70000', 'expected a whole number from 0 to 65535'],
      ['SCOPE_AUTH_PORT', '-1', 'expected a whole number from 0 to 65535'],
      ['SCOPE_AUTH_PORT', '80.5', 'expected a whole number from 0 to 65535'],
      ['SCOPE_AUTH_PORT', 'http', 'expected a whole number from 0 to 65535'],
      ['SCOPE_AUTH_HOST', 'local host', 'expected an IP address (127.0.0.1, 0.0.0.0, ::) or a host name'],
      ['SCOPE_AUTH_HOST', 'http://127.0.0.1', 'expected an IP address'],
      ['SCOPE_AUTH_ISSUER', 'https://auth.example.com/?tenant=1', 'expected an http(s) URL without query or fragment'],
      ['SCOPE_AUTH_ISSUER', 'https://auth.example.com/#top', 'expected an http(s) URL without query or fragment'],
      ['SCOPE_AUTH_ISSUER', 'ftp://auth.example.com', 'expected an http(s) URL without query or fragment'],
      ['SCOPE_AUTH_ISSUER', 'auth.example.com', 'expected an http(s) URL without query or fragment'],
      ['SCOPE_AUTH_DATABASE_URL', 'mysql://localhost/auth', 'expected sqlite:<path> (or sqlite::memory:) or postgres://'],
      ['SCOPE_AUTH_DATABASE_URL', 'sqlite:', 'expected sqlite:<path>'],
      ['SCOPE_AUTH_DATABASE_URL', 'db/scope-auth.sqlite', 'expected sqlite:<path>'],
      ['SCOPE_AUTH_DATABASE_POOL_SIZE', '0', 'expected a whole number from 1 to 1000'],
      ['SCOPE_AUTH_DATABASE_CONNECT_TIMEOUT', '1m', 'expected a whole number from 0 to 3600'],
      ['SCOPE_AUTH_DATABASE_ACQUIRE_TIMEOUT_MS', '50', 'expected a whole number from 100 to 600000'],
      ['SCOPE_AUTH_DATABASE_STATEMENT_TIMEOUT_MS', '5s', 'expected a whole number from 100 to 600000'],
      ['SCOPE_AUTH_SHUTDOWN_GRACE', '-1', 'expected a whole number from 0 to 3600'],
      ['SCOPE_AUTH_MAX_CONNECTIONS', '0', 'expected a whole number from 1 to 1000000'],
      ['SCOPE_AUTH_REQUEST_TIMEOUT', '30s', 'expected a whole number from 1 to 3600'],
      ['SCOPE_AUTH_KEK', randomBytes(16).toString('base64'), 'expected 32 random bytes in base64'],
      ['SCOPE_AUTH_KEK', randomBytes(33).toString('base64'), 'expected 32 random bytes in base64'],
      ['SCOPE_AUTH_KEK', 'not base64 at all, but long enough to be 32 bytes!!', 'expected 32 random bytes in base64'],
      ['SCOPE_AUTH_SIGNING_ALG', 'HS256', 'expected one of ES256, EdDSA, RS256, PS256'],
      ['SCOPE_AUTH_SIGNING_ALG', 'none', 'expected one of ES256, EdDSA, RS256, PS256'],
      ['SCOPE_AUTH_SIGNING_KEY_ROTATION_DAYS', '0', 'expected a whole number from 1 to 3650'],
      ['SCOPE_AUTH_TOKEN_TTL', 'abc', 'expected a whole number from 60 to 86400'],
      ['SCOPE_AUTH_TOKEN_TTL', '59', 'expected a whole number from 60 to 86400'],
      ['SCOPE_AUTH_TOKEN_TTL', '3601', 'must not exceed SCOPE_AUTH_TOKEN_TTL_MAX (3600)'],
      ['SCOPE_AUTH_TOKEN_TTL_MAX', '86401', 'expected a whole number from 60 to 86400'],
      ['SCOPE_AUTH_TOKEN_TTL', '900', 'must not exceed SCOPE_AUTH_TOKEN_TTL_MAX (600)', { SCOPE_AUTH_TOKEN_TTL_MAX: '600' }],
      ['SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS', '0', 'expected a whole number from 1 to 36500'],
      ['SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS', '1e3', 'expected a whole number from 1 to 36500'],
      ['SCOPE_AUTH_ARGON2_MEMORY_KIB', '512', 'expected a whole number from 1024 to 4194304'],
      ['SCOPE_AUTH_ARGON2_TIME_COST', '0', 'expected a whole number from 1 to 100'],
      ['SCOPE_AUTH_ARGON2_PARALLELISM', '65', 'expected a whole number from 1 to 64'],
      ['SCOPE_AUTH_ARGON2_CONCURRENCY', '0', 'expected a whole number from 1 to 1024'],
      ['SCOPE_AUTH_ARGON2_QUEUE_LIMIT', '-1', 'expected a whole number from 0 to 1000000'],
      ['SCOPE_AUTH_VERIFIED_CACHE_SIZE', 'lots', 'expected a whole number from 0 to 10000000'],
      ['SCOPE_AUTH_VERIFIED_CACHE_TTL', '0', 'expected a whole number from 1 to 86400'],
      ['SCOPE_AUTH_THROTTLE_KEY_FAILURES', '0', 'expected a whole number from 1 to 1000000'],
      ['SCOPE_AUTH_THROTTLE_IP_FAILURES', 'many', 'expected a whole number from 1 to 1000000'],
      ['SCOPE_AUTH_TRUST_PROXY', 'garbage', 'expected false, true, a hop count, or a comma-separated list of IP addresses'],
      // Shaped like an address but not one: express would refuse it later, without naming the variable.
      ['SCOPE_AUTH_TRUST_PROXY', 'cafe', 'expected false, true, a hop count'],
      ['SCOPE_AUTH_TRUST_PROXY', '10.0.0.300', 'expected false, true, a hop count'],
      ['SCOPE_AUTH_TRUST_PROXY', '10.0.0.0/33', 'expected false, true, a hop count'],
      ['SCOPE_AUTH_TRUST_PROXY', '::1/129', 'expected false, true, a hop count'],
      ['SCOPE_AUTH_TRUST_PROXY', '101', 'expected false, true, a hop count'],
      ['SCOPE_AUTH_TRUST_PROXY', 'loopback,', 'expected false, true, a hop count'],
      ['SCOPE_AUTH_METRICS_PORT', '70000', 'expected a whole number from 0 to 65535'],
      ['SCOPE_AUTH_METRICS_PORT', '8080', 'it must differ from SCOPE_AUTH_PORT'],
      ['SCOPE_AUTH_METRICS_HOST', 'local host', 'expected an IP address', { SCOPE_AUTH_METRICS_PORT: '9464' }],
      // Reading the files themselves: test/config-secrets.test.ts.
      ['SCOPE_AUTH_KEK_FILE', '/nonexistent/kek', /cannot be read: ENOENT/],
      ['SCOPE_AUTH_DATABASE_URL_FILE', '/nonexistent/database-url', /cannot be read: ENOENT/],
      ['SCOPE_AUTH_LOG_LEVEL', 'loud', 'expected one of fatal, error, warn, info, debug, trace, silent'],
      // Whether the catalogue has them is checked once it is loaded (test/domain/allowances.test.ts).
      ['SCOPE_AUTH_ORG_DEFAULT_SCOPES', 'agents:view,runtime:run', 'expected space-separated scopes of the catalogue'],
      ['SCOPE_AUTH_ORG_DEFAULT_SCOPES', 'Agents:View', 'expected space-separated scopes of the catalogue'],
      ['SCOPE_AUTH_INVITATION_TTL', '72h', 'expected a whole number from 300 to 2592000'],
      ['SCOPE_AUTH_SESSION_IDLE', '59', 'expected a whole number from 60 to 2592000'],
      ['SCOPE_AUTH_SESSION_MAX', '0', 'expected a whole number from 300 to 7776000'],
      ['SCOPE_AUTH_SESSION_IDLE', '7200', 'must not exceed SCOPE_AUTH_SESSION_MAX (3600)', { SCOPE_AUTH_SESSION_MAX: '3600' }],
      ['SCOPE_AUTH_CONSOLE', 'maybe', 'expected true or false'],
      ['SCOPE_AUTH_KEY_POLICY_INTERVAL_MS', '999', 'expected a whole number from 1000 to 3600000'],
      ['SCOPE_AUTH_KEY_POLICY_INTERVAL_MS', '5m', 'expected a whole number from 1000 to 3600000'],
      // The keys file's content: test/config-leaks.test.ts.
      ['SCOPE_AUTH_LEAK_REPORT_KEYS', '/nonexistent/secret_scanning.json', 'the file cannot be read (ENOENT)'],
      ['SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE', '0', 'expected a whole number from 1 to 10000'],
      ['SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP', 'sometimes', 'expected true or false'],
      ['SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE', '2', 'expected true or false'],
      ['SCOPE_AUTH_WEBHOOKS_POLL_INTERVAL_MS', '50', 'expected a whole number from 100 to 60000'],
      ['SCOPE_AUTH_WEBHOOKS_POLL_INTERVAL_MS', '1s', 'expected a whole number from 100 to 60000'],
    ];

    it('lowers the default token lifetime with a lower maximum when the lifetime is not set', () => {
      expect(loadConfig({ SCOPE_AUTH_TOKEN_TTL_MAX: '600' }).tokenTtlSeconds).toBe(600);
      expect(loadConfig({ SCOPE_AUTH_TOKEN_TTL_MAX: '600', SCOPE_AUTH_TOKEN_TTL: '300' }).tokenTtlSeconds).toBe(300);
      expect(loadConfig({ SCOPE_AUTH_TOKEN_TTL_MAX: '7200' }).tokenTtlSeconds).toBe(900);
    });

    it('accepts host names and IPv4 and IPv6 addresses for SCOPE_AUTH_HOST', () => {
      for (const value of ['0.0.0.0', '::', '::1', 'localhost', 'auth-1.internal']) {
        expect(loadConfig({ SCOPE_AUTH_HOST: value }).host).toBe(value);
      }
    });

    it('has a case for every variable that does not accept free text', () => {
      const freeText = ['SCOPE_AUTH_AUDIENCE', 'SCOPE_AUTH_KEYS_DIR', 'SCOPE_AUTH_CATALOG'];
      const tested = new Set(cases.map(([name]) => name));
      const untested = Object.keys(DEFAULTS).filter((name) => !freeText.includes(name) && !tested.has(name as EnvName));
      expect(untested, `add a bad-value case for: ${untested.join(', ')}`).toEqual([]);
    });

    it.each(cases)('%s=%j', (name, value, accepts, extra = {}) => {
      const message = configErrorOf({ ...extra, [name]: value });
      expect(message.startsWith(`${name}`)).toBe(true);
      if (typeof accepts === 'string') expect(message).toContain(accepts);
      else expect(message).toMatch(accepts);
    });

    it('and never echoes a bad KEK back', () => {
      const bad = randomBytes(16).toString('base64');
      expect(configErrorOf({ SCOPE_AUTH_KEK: bad })).not.toContain(bad);
    });
  });
});

describe('.env.example', () => {
  const path = fileURLToPath(new URL('../.env.example', import.meta.url));
  const listed = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) listed.set(match[1]!, match[2]!);
  }

  it('lists every configuration variable', () => {
    const missing = Object.keys(DEFAULTS).filter((name) => !listed.has(name));
    expect(missing, `variables missing from .env.example: ${missing.join(', ')}`).toEqual([]);
  });

  it('lists no variable the server does not read', () => {
    const unknown = [...listed.keys()].filter((name) => !(name in DEFAULTS));
    expect(unknown, `variables in .env.example that config.ts does not know: ${unknown.join(', ')}`).toEqual([]);
  });

  it('shows each variable with its default', () => {
    const differing = Object.entries(DEFAULTS)
      .filter(([name, value]) => listed.has(name) && listed.get(name) !== value)
      .map(([name, value]) => `${name}: .env.example has ${JSON.stringify(listed.get(name))}, DEFAULTS has ${JSON.stringify(value)}`);
    expect(differing).toEqual([]);
  });

  it('is accepted by loadConfig as it stands', () => {
    expect(loadConfig(Object.fromEntries(listed))).toEqual(loadConfig({}));
  });
});
