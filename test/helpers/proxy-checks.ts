// What test/deploy/proxy.test.ts checks through each proxy (nginx, Caddy) in front of the
// two instances: the guide's curl commands over HTTPS, the client's address as the servers
// record it, requests reaching both instances, /metrics kept private.
import type { ChildProcess } from 'node:child_process';
import { beforeAll, expect, it } from 'vitest';
import { generateSecret } from '../../src/domain/credentials.js';
import { described, runGuideBlock, type GuideBlock } from './guide.js';
import { httpsRequest, startCaddy, startNginx, waitForHttps, type Certificate, type ProxyProcess } from './proxies.js';
import { freePort } from './server.js';

export interface Instance {
  readonly name: string;
  readonly port: number;
  readonly env: Record<string, string>;
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

export interface Deployment {
  readonly guide: readonly GuideBlock[];
  readonly dir: string;
  /** The issuer's port is nginx's. */
  readonly nginxPort: number;
  instances(): readonly Instance[];
  certificate(): Certificate;
  root(): { orgId: string; keyId: string; secret: string };
  /** Registers a started proxy, for the suite to stop. */
  started(proxy: ProxyProcess): void;
}

const POLL_MS = 100;
const POLL_TIMEOUT_MS = 10_000;

/** Probes until `done` holds or 10 s have passed; the last value either way, for the assertion to show. */
async function settled<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + POLL_TIMEOUT_MS;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * The checks of one proxy. `firstAddress`: the last byte of the loopback addresses its
 * clients send from (127.0.0.N and N+1), distinct per proxy and from the proxy's own
 * 127.0.0.1, so the address each server records tells whose it is.
 */
export function proxyChecks(deployment: Deployment, kind: 'nginx' | 'caddy', options: { firstAddress: number }): void {
  let proxy: ProxyProcess;
  const ca = () => deployment.certificate().pem;
  const json = 'application/json';
  const exchangeBody = (secret: string) => {
    const root = deployment.root();
    return JSON.stringify({ org_id: root.orgId, key_id: root.keyId, secret });
  };

  beforeAll(async () => {
    const upstreams = deployment.instances().map((instance) => instance.port);
    const certificate = deployment.certificate();
    proxy =
      kind === 'nginx'
        ? startNginx({ dir: deployment.dir, httpsPort: deployment.nginxPort, httpPort: await freePort(), upstreams, certificate })
        : startCaddy({ dir: deployment.dir, httpsPort: await freePort(), upstreams, certificate });
    deployment.started(proxy);
    await waitForHttps(proxy, '/healthz', ca());
  }, 60_000);

  it(`answers the guide's curl commands over HTTPS: /healthz, the JWKS and an exchange (${kind})`, async () => {
    const root = deployment.root();
    const checks = await runGuideBlock(deployment.guide, 'check-proxy', {
      swaps: [['https://auth.example.com', proxy.url]],
      cwd: deployment.dir,
      env: {
        PATH: process.env.PATH ?? '',
        CURL_CA_BUNDLE: deployment.certificate().cert,
        SCOPE_ORG_ID: root.orgId,
        SCOPE_API_KEY: root.keyId,
        SCOPE_API_SECRET: root.secret,
      },
      timeoutMs: 30_000,
    });
    expect(checks.code, described('check-proxy', checks)).toBe(0);
    expect(checks.stdout).toContain('{"status":"ok"}');
    expect(checks.stdout).toMatch(/\{"keys":\[\{/);
    expect(checks.stdout).toMatch(/"access_token":"eyJ/);
  });

  it(`records the client's own address, not the proxy's, and ignores an X-Forwarded-For the client wrote (${kind})`, async () => {
    const [good, bad] = [`127.0.0.${options.firstAddress}`, `127.0.0.${options.firstAddress + 1}`];
    const admin = await httpsRequest(`${proxy.url}/v1/token`, { ca: ca(), method: 'POST', headers: { 'content-type': json }, body: exchangeBody(deployment.root().secret) });
    expect(admin.status).toBe(200);
    const token = (JSON.parse(admin.text) as { access_token: string }).access_token;
    const spoofed = { 'content-type': json, 'x-forwarded-for': '203.0.113.9' };
    const exchanged = await httpsRequest(`${proxy.url}/v1/token`, { ca: ca(), localAddress: good, method: 'POST', headers: spoofed, body: exchangeBody(deployment.root().secret) });
    expect(exchanged.status).toBe(200);
    // A well-formed secret, so the refusal is a wrong secret, audited in the key's org.
    const refused = await httpsRequest(`${proxy.url}/v1/token`, { ca: ca(), localAddress: bad, method: 'POST', headers: spoofed, body: exchangeBody(generateSecret()) });
    expect(refused.status).toBe(401);

    const bearer = { authorization: `Bearer ${token}` };
    // Last use is written in batches, once a second.
    const lastUsedIp = await settled(
      async () => {
        const key = await httpsRequest(`${proxy.url}/v1/keys/${deployment.root().keyId}`, { ca: ca(), headers: bearer });
        return (JSON.parse(key.text) as { last_used_ip: string | null }).last_used_ip;
      },
      (ip) => ip === good,
    );
    expect(lastUsedIp).toBe(good);
    const audit = await httpsRequest(`${proxy.url}/v1/audit?action=token.refused&limit=1`, { ca: ca(), headers: bearer });
    expect(audit.status).toBe(200);
    expect((JSON.parse(audit.text) as { data: { ip: string }[] }).data[0]?.ip).toBe(bad);
  });

  it(`sends requests to both instances (${kind})`, async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `${kind}-spread-${i}`);
    for (const id of ids) expect((await httpsRequest(`${proxy.url}/healthz`, { ca: ca(), headers: { 'x-request-id': id } })).status).toBe(200);
    // Each request's line, with its id, in the output of the instance that answered it.
    const perInstance = await settled(
      async () => deployment.instances().map((instance) => ids.filter((id) => instance.output().includes(`"request_id":"${id}"`)).length),
      (counts) => counts.reduce((a, b) => a + b) === ids.length,
    );
    expect(perInstance.reduce((a, b) => a + b)).toBe(ids.length);
    expect(perInstance.every((count) => count > 0), `requests per instance: ${perInstance.join(', ')}`).toBe(true);
  });

  it(`keeps /metrics private: 404 through the proxy (${kind})`, async () => {
    expect((await httpsRequest(`${proxy.url}/metrics`, { ca: ca() })).status).toBe(404);
  });
}
