// Boots a server from a Config: database, migrations, keyring, first-start bootstrap,
// listening, background timers; and drains it on close(). Used by main.ts, the CLI's
// `serve` and the end-to-end tests.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from 'pino';
import { createApp, type AppDeps } from './app.js';
import type { Config } from './config.js';
import type { Clock } from './domain/clock.js';
import { loadKek } from './domain/kek.js';
import { bootstrapRootOrg, type CreatedOrg } from './domain/orgs.js';
import { cacheHeapWarning } from './domain/verified-cache.js';
import { createServices } from './services.js';
import { openChangeFeed } from './store/change-feed.js';
import { createDatabase, migrateToLatest } from './store/database.js';

export interface RunningServer {
  readonly url: string;
  readonly deps: AppDeps;
  /** The root org's credentials when this start bootstrapped an empty database. */
  readonly bootstrap: CreatedOrg | null;
  /** Stops accepting, waits for in-flight requests, flushes last-used, closes the database. */
  close(): Promise<void>;
}

const DRAIN_TIMEOUT_MS = 10_000;

export interface StartOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /**
   * Called with the root org's credentials when this start bootstrapped an empty database,
   * before the server listens: they are committed by then, so they must be shown even if
   * listening fails, and whoever waits for "scope-auth listening" finds them already printed.
   */
  readonly onBootstrap?: (created: CreatedOrg, deps: AppDeps) => void;
}

export async function startServer(config: Config, options: StartOptions): Promise<RunningServer> {
  const { logger } = options;
  const heapWarning = cacheHeapWarning(config.verifiedCache.maxEntries, getHeapStatistics().heap_size_limit);
  if (heapWarning) logger.warn(heapWarning);
  const { kek, created } = loadKek(config.kek, config.keysDir);
  if (created) logger.info({ dir: config.keysDir }, 'created the key-encryption key');
  const handle = await createDatabase(config.databaseUrl);
  // Instances on one PostgreSQL database hear each other's signing-key changes at once.
  const changes = handle.dialect === 'postgres' ? openChangeFeed({ url: config.databaseUrl, logger }) : null;
  try {
    await migrateToLatest(handle.db);
    const deps = await createServices(config, {
      db: handle.db,
      kek,
      logger,
      processMetrics: true,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(changes ? { changes } : {}),
    });
    const bootstrap = await bootstrapRootOrg(deps);
    if (bootstrap) options.onBootstrap?.(bootstrap, deps);
    const app = createApp(deps);
    const server = createServer(app).listen(config.port, config.host);
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    deps.keyring.start();
    deps.lastUsed.start();
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    logger.info({ url, database: handle.dialect, signing_alg: config.signingAlg }, 'scope-auth listening');

    let closing: Promise<void> | undefined;
    return {
      url,
      deps,
      bootstrap,
      close() {
        closing ??= (async () => {
          const drained = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          const timeout = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
          await drained;
          clearTimeout(timeout);
          deps.keyring.stop();
          await changes?.close();
          await deps.lastUsed.stop();
          await handle.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await changes?.close();
    await handle.close();
    throw error;
  }
}
