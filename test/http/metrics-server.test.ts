// SCOPE_AUTH_METRICS_PORT: /metrics on a listener of its own and nowhere else, so the proxy
// in front of the API cannot expose it; and the names Prometheus users expect on a real
// server (startServer, as `npm start` runs it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestServer, type TestServer } from '../helpers/server.js';

describe('metrics on a port of their own', () => {
  let server: TestServer;
  let metricsPort: number;
  beforeAll(async () => {
    metricsPort = await freePort();
    server = await startTestServer({ env: { SCOPE_AUTH_METRICS_PORT: String(metricsPort) } });
  });
  afterAll(async () => server?.close());

  it('serves /metrics on SCOPE_AUTH_METRICS_HOST:SCOPE_AUTH_METRICS_PORT (127.0.0.1 by default)', async () => {
    expect(server.server.metricsUrl).toBe(`http://127.0.0.1:${metricsPort}`);
    const res = await fetch(`${server.server.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).toContain('# TYPE http_request_duration_seconds histogram');
  });

  it('answers 404 for /metrics on the API port, as for any unknown path', async () => {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ status: 404 });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('answers nothing but GET and HEAD of /metrics on the metrics port', async () => {
    for (const path of ['/healthz', '/v1/token', '/', '/metrics/x']) expect((await fetch(`${server.server.metricsUrl}${path}`)).status).toBe(404);
    expect((await fetch(`${server.server.metricsUrl}/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${server.server.metricsUrl}/metrics`, { method: 'HEAD' })).status).toBe(200);
  });

  it('has the standard process and Node.js metrics, the build and the requests the API port answered', async () => {
    await fetch(`${server.url}/.well-known/jwks.json`);
    const text = await (await fetch(`${server.server.metricsUrl}/metrics`)).text();
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_version_info']) {
      expect(text).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, 'm'));
    }
    expect(text).not.toMatch(/^scope_auth_(process|nodejs)_/m);
    expect(text).toContain(`scope_auth_build_info{version="0.1.0",node="${process.version}"} 1`);
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/\.well-known\/jwks\.json",status_class="2xx"\} 1$/m);
    // The scrapes themselves are not requests of the API.
    expect(text).not.toContain('route="/metrics"');
  });

  it('stops listening when the server closes', async () => {
    const port = await freePort();
    const other = await startTestServer({ env: { SCOPE_AUTH_METRICS_PORT: String(port) } });
    await other.close();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});

describe('metrics on the API port (SCOPE_AUTH_METRICS_PORT unset)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it('serves /metrics with the API and no other listener', async () => {
    expect(server.server.metricsUrl).toBeNull();
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('scope_auth_build_info{');
  });
});
