// The Node HTTP server around the request listener, with its bounds: how many connections
// may be open, and how long a client may take to send a request or keep an idle connection.
// Node's own defaults let a stalled body hold a connection for five minutes (and checked it
// only every 30 s), with no cap on connections.
import { createServer, type Server, type ServerOptions } from 'node:http';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { App } from '../app.js';

/**
 * How often Node looks for requests past their timeouts. Its default (30 s) would let a
 * request outlive a 30 s timeout by as much again; a pass over the open connections once a
 * second costs next to nothing.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** Refused connections are logged at most once per this, with their count. */
const DROP_LOG_INTERVAL_MS = 1000;

export function createHttpServer(app: App, limits: Config['http'], options: { logger: Logger; onDrop?: () => void }): Server {
  // headersTimeout is a createServer option since Node 18, but the @types/node of the oldest
  // Node we support (package.json "engines") does not list it yet.
  const serverOptions: ServerOptions & { headersTimeout: number } = {
    requestTimeout: limits.requestTimeoutSeconds * 1000,
    headersTimeout: limits.headersTimeoutSeconds * 1000,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  const server = createServer(serverOptions, app);
  server.keepAliveTimeout = limits.keepAliveTimeoutSeconds * 1000;
  // Beyond the cap Node closes each new connection as soon as it is accepted ('drop').
  server.maxConnections = limits.maxConnections;
  let dropped = 0;
  let reporting: NodeJS.Timeout | undefined;
  server.on('drop', () => {
    dropped++;
    options.onDrop?.();
    reporting ??= setTimeout(() => {
      options.logger.warn({ dropped, max_connections: limits.maxConnections }, 'connections refused: SCOPE_AUTH_MAX_CONNECTIONS are open');
      dropped = 0;
      reporting = undefined;
    }, DROP_LOG_INTERVAL_MS).unref();
  });
  return server;
}
