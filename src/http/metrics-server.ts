// GET /metrics on a listener of its own (SCOPE_AUTH_METRICS_HOST:SCOPE_AUTH_METRICS_PORT),
// for deployments whose proxy forwards every path of the API port to the world: there
// /metrics is 404, and Prometheus scrapes this port on the private network. It answers
// nothing else (404), and never keeps a scraper's connection from closing on shutdown.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.js';
import { targetsPath } from './raw-routes.js';

export interface MetricsServer {
  /** http://host:port, the port as bound (0 in the configuration picks a free one). */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(metrics: Metrics, listen: { host: string; port: number }): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !targetsPath(req.url, '/metrics')) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('Not found: this port serves GET /metrics only\n');
      return;
    }
    metrics.render().then(
      (text) => {
        res.setHeader('Content-Type', metrics.contentType);
        res.end(text);
      },
      () => {
        res.statusCode = 500;
        res.end();
      },
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
