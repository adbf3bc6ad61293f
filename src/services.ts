// Builds every dependency of createApp from a Config and an open database.
import type { Logger } from 'pino';
import type { AppDeps } from './app.js';
import type { Config } from './config.js';
import { systemClock, type Clock } from './domain/clock.js';
import { createArgon2Hasher } from './domain/hashing.js';
import { createKeyPoliciesJob } from './domain/key-policies.js';
import { createKeyring } from './domain/keyring.js';
import { createLastUsedRecorder } from './domain/last-used.js';
import { defaultAllowance } from './domain/allowances.js';
import { loadCatalog } from './domain/scopes.js';
import { databaseCounters } from './domain/counter-stores.js';
import { REFUSED_ACTION } from './domain/exchange.js';
import { createRefusalAudit } from './domain/refusal-audit.js';
import { createThrottle } from './domain/throttle.js';
import { randomToken } from './domain/opaque-tokens.js';
import { createCsrf } from './domain/sessions.js';
import { SESSION_REFUSED_ACTION } from './domain/sign-in.js';
import { createLeakSignatures } from './domain/leak-signatures.js';
import { createSecretDigest } from './domain/secret-digest.js';
import { createWebhookDeliverer } from './domain/webhook-deliverer.js';
import { createLifecycle } from './http/lifecycle.js';
import { createMetrics } from './http/metrics.js';
import type { ChangeFeed } from './store/change-feed.js';
import { dialectOf, type Db } from './store/database.js';

export interface ServiceOptions {
  readonly db: Db;
  readonly kek: Buffer;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly processMetrics?: boolean;
  /** Other processes' changes (PostgreSQL): the keyring re-reads the signing keys on each. */
  readonly changes?: ChangeFeed;
}

/**
 * Loads the catalogue (throws CatalogError), checks the configuration that depends on it
 * (throws ConfigError), and the keyring (creating the first signing key).
 */
export async function createServices(config: Config, options: ServiceOptions): Promise<AppDeps> {
  const { db, logger } = options;
  const clock = options.clock ?? systemClock;
  const catalog = loadCatalog(config.catalogPath);
  defaultAllowance(catalog, config.orgDefaultScopes);
  const keyring = createKeyring({
    db,
    kek: options.kek,
    clock,
    logger,
    alg: config.signingAlg,
    rotationDays: config.signingKeyRotationDays,
    tokenTtlMaxSeconds: config.tokenTtlMaxSeconds,
    publishSeconds: config.jwksMaxAgeSeconds,
    refreshSeconds: config.keyringRefreshSeconds,
    ...(options.changes ? { changes: options.changes } : {}),
  });
  await keyring.init();
  const hasher = createArgon2Hasher(config.argon2);
  // On PostgreSQL every instance counts in the database, so the limits hold for the
  // deployment; a SQLite file serves one instance, which counts in its memory.
  const counters = dialectOf(db) === 'postgres' ? { counters: databaseCounters(db) } : {};
  const metrics = createMetrics({ processMetrics: options.processMetrics ?? false });
  return {
    config,
    db,
    catalog,
    keyring,
    hasher,
    clock,
    logger,
    throttle: createThrottle({ limits: config.throttle, clock, logger, ...counters }),
    lastUsed: createLastUsedRecorder(db, logger, config.lastUsedFlushMs),
    metrics,
    lifecycle: createLifecycle(),
    refusalAudit: createRefusalAudit({ db, clock, logger, action: REFUSED_ACTION }),
    people: {
      throttle: createThrottle({ limits: config.throttle, clock, logger, kind: 'signin', ...counters }),
      refusalAudit: createRefusalAudit({ db, clock, logger, action: SESSION_REFUSED_ACTION, target: { type: 'user', idsField: 'user_ids' } }),
      // What an unknown email is verified against, so that its sign-in costs what any other does.
      dummyPasswordHash: await hasher.hash(randomToken()),
      csrf: createCsrf(options.kek),
      kek: options.kek,
    },
    secretDigest: createSecretDigest(options.kek),
    leaks: {
      // Every report counts, against both limits alike: the kind has counters of its own.
      throttle: createThrottle({
        limits: { keyFailuresPerMinute: config.leaks.reportsPerMinute, ipFailuresPerMinute: config.leaks.reportsPerMinute },
        clock,
        logger,
        kind: 'leak',
        ...counters,
      }),
      signatures: createLeakSignatures({ file: config.leaks.reportKeysFile, keys: config.leaks.reportKeys, logger }),
    },
    jobs: [createKeyPoliciesJob({ db, clock, logger, catalog, metrics, config }), createWebhookDeliverer({ db, clock, logger, kek: options.kek, config })],
  };
}
