// Boots a server from a Config: database, migrations, keyring, first-start bootstrap,
// listening, background timers; and drains it on close(). Used by main.ts, the CLI's
// `serve` and the end-to-end tests.
import type { Server } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import { createApp, type AppDeps } from './app.js';
import type { Config } from './config.js';
import type { Clock } from './domain/clock.js';
import { createHttpServer } from './http/http-server.js';
import { startMetricsServer, type MetricsServer } from './http/metrics-server.js';
import { insecureCookieHost } from './http/session-cookie.js';
import { loadKek } from './domain/kek.js';
import { disallowedAudienceWarning } from './domain/audiences.js';
import { bootstrapRootOrg } from './domain/orgs.js';
import { issueFirstOwnerInvitation, type FirstStart } from './domain/first-owner.js';
import { cacheHeapWarning } from './domain/verified-cache.js';
import { createServices } from './services.js';
import { waitForDatabase } from './store/availability.js';
import { openChangeFeed } from './store/change-feed.js';
import type { ChangeFeed } from './store/change-feed.js';
import { createDatabase, migrateToLatest, ping, type DatabaseHandle } from './store/database.js';

export interface RunningServer {
  readonly url: string;
  /** Where /metrics is served when SCOPE_AUTH_METRICS_PORT is set (then not on `url`); else null. */
  readonly metricsUrl: string | null;
  readonly deps: AppDeps;
  /** The root org's credentials (and its first owner's link) when this start bootstrapped an empty database. */
  readonly bootstrap: FirstStart | null;
  /**
   * Drains: readiness fails at once, new connections are refused, every answer from now on
   * closes its connection, requests in flight finish (for at most SCOPE_AUTH_SHUTDOWN_GRACE);
   * then last-used figures are flushed and the database closed.
   */
  close(): Promise<void>;
}

/**
 * Stops accepting connections without closing the idle keep-alive ones, as http.Server's
 * close() does since Node 19: a client may be sending a request on such a connection at that
 * very moment, and would lose it (in a rolling restart under load, 2–3 requests per restart
 * behind a round-robin proxy). Left open, each either carries one more request, answered with
 * `Connection: close`, or ends by the keep-alive timeout (5 s, announced in the `Keep-Alive`
 * header, so clients stop reusing it first; config.ts sets it). Resolves when every connection
 * has closed.
 */
function stopAccepting(server: Server): Promise<void> {
  return new Promise((resolve) => NetServer.prototype.close.call(server, () => resolve()));
}

export interface StartOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /**
   * Called with the root org's credentials when this start bootstrapped an empty database,
   * before the server listens: they are committed by then, so they must be shown even if
   * listening fails, and whoever waits for "scope-auth listening" finds them already printed.
   */
  readonly onBootstrap?: (created: FirstStart, deps: AppDeps) => void;
}

/** Warnings about a configuration that works but is unsafe, logged at every start. */
function warnAboutConfig(config: Config, logger: Logger): void {
  const heapWarning = cacheHeapWarning(config.verifiedCache.maxEntries, getHeapStatistics().heap_size_limit);
  if (heapWarning) logger.warn(heapWarning);
  const cookieHost = insecureCookieHost(config.issuer);
  if (cookieHost !== null) {
    logger.warn(
      { issuer: config.issuer },
      'SCOPE_AUTH_ISSUER is http and not this machine: session cookies go without Secure, so anyone on the network between a browser and the server can take them. Serve people over https',
    );
  }
  if (config.trustProxy === true) {
    logger.warn(
      { trust_proxy: true },
      'SCOPE_AUTH_TRUST_PROXY=true takes the leftmost X-Forwarded-For address as the client, and any client can write it: ' +
        'it chooses the address it is throttled and recorded under. Set the number of proxies in front of the server (1) or their addresses or subnets instead',
    );
  }
}

function keyEncryptionKey(config: Config, logger: Logger): Buffer {
  const { kek, created } = loadKek(config.kek, config.keysDir);
  if (created) logger.info({ dir: config.keysDir }, 'created the key-encryption key');
  return kek;
}

/** Opens the database (waiting for it), migrates it, builds the services and bootstraps an empty one. */
async function prepare(
  config: Config,
  options: StartOptions & { readonly processMetrics: boolean },
  kek: Buffer,
  handle: DatabaseHandle,
  changes: ChangeFeed | null,
): Promise<{ deps: AppDeps; bootstrap: FirstStart | null }> {
  const { logger } = options;
  await waitForDatabase(() => ping(handle.db), { timeoutMs: config.database.connectTimeoutSeconds * 1000, logger });
  await migrateToLatest(handle.db);
  const deps = await createServices(config, {
    db: handle.db,
    kek,
    logger,
    processMetrics: options.processMetrics,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(changes ? { changes } : {}),
  });
  const audiences = await disallowedAudienceWarning(handle.db, { catalog: deps.catalog, defaultAudience: config.audience });
  if (audiences) logger.warn({ apps: audiences.apps, count: audiences.count }, audiences.message);
  const created = await bootstrapRootOrg(deps);
  // The root org's first owner: a one-time link handed over with the root key.
  const bootstrap = created && { ...created, ownerInvitationUrl: await issueFirstOwnerInvitation(deps, created.org.id) };
  if (bootstrap) options.onBootstrap?.(bootstrap, deps);
  return { deps, bootstrap };
}

/**
 * The first start without the server (`scope-auth init`): migrates, creates the
 * key-encryption key and the signing keys, bootstraps the root org of an empty database
 * (onBootstrap gets its credentials), and closes. Null when an org already existed.
 */
export async function initialize(config: Config, options: StartOptions): Promise<FirstStart | null> {
  const kek = keyEncryptionKey(config, options.logger);
  const handle = await createDatabase(config.databaseUrl, { pool: config.database, logger: options.logger });
  try {
    const { deps, bootstrap } = await prepare(config, { ...options, processMetrics: false }, kek, handle, null);
    await deps.lastUsed.stop();
    return bootstrap;
  } finally {
    await handle.close();
  }
}

export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  warnAboutConfig(config, logger);
  const kek = keyEncryptionKey(config, logger);
  const handle = await createDatabase(config.databaseUrl, { pool: config.database, logger });
  // Instances on one PostgreSQL database hear each other's signing-key changes at once.
  const changes = handle.dialect === 'postgres' ? openChangeFeed({ url: config.databaseUrl, logger }) : null;
  let metricsServer: MetricsServer | null = null;
  try {
    const { deps, bootstrap } = await prepare(config, { ...options, processMetrics: true }, kek, handle, changes);
    if (config.metrics) metricsServer = await startMetricsServer(deps.metrics, config.metrics);
    const app = createApp(deps);
    const server = createHttpServer(app, config.http, { logger, onDrop: deps.metrics.connectionDropped }).listen(config.port, config.host);
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    deps.keyring.start();
    deps.lastUsed.start();
    deps.throttle.start();
    deps.refusalAudit.start();
    deps.people.throttle.start();
    deps.people.refusalAudit.start();
    deps.leaks.throttle.start();
    for (const job of deps.jobs) job.start();
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    const metricsUrl = metricsServer?.url ?? null;
    logger.info({ url, ...(metricsUrl ? { metrics_url: `${metricsUrl}/metrics` } : {}), database: handle.dialect, signing_alg: config.signingAlg }, 'scope-auth listening');

    let closing: Promise<void> | undefined;
    return {
      url,
      metricsUrl,
      deps,
      bootstrap,
      close() {
        closing ??= (async () => {
          // Readiness fails at once and every answer from now on closes its connection, so
          // busy keep-alive connections end after the request they carry instead of being
          // served until the grace is over and then cut mid-request.
          deps.lifecycle.drain();
          const drained = stopAccepting(server);
          const grace = setTimeout(() => {
            logger.warn({ grace_seconds: config.shutdownGraceSeconds }, 'shutdown grace over; closing the connections still open');
            server.closeAllConnections();
          }, config.shutdownGraceSeconds * 1000);
          await drained;
          clearTimeout(grace);
          await Promise.all(deps.jobs.map((job) => job.stop()));
          deps.keyring.stop();
          deps.throttle.stop();
          await deps.refusalAudit.stop();
          deps.people.throttle.stop();
          deps.leaks.throttle.stop();
          await deps.people.refusalAudit.stop();
          await changes?.close();
          await deps.lastUsed.stop();
          await handle.close();
          // Last: the drain is worth watching.
          await metricsServer?.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await metricsServer?.close();
    await changes?.close();
    await handle.close();
    throw error;
  }
}
