// examples/client.mjs: the SDK client gets a token and calls the example Express service.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appWithKey, EXAMPLES, runExample, startExample, type RunningExample } from '../helpers/examples.js';
import { freePort, startTestServer, type TestServer } from '../helpers/server.js';

describe('examples/client.mjs, the SDK client calling the example service', () => {
  let server: TestServer;
  let service: RunningExample;
  let serviceUrl: string;
  beforeAll(async () => {
    server = await startTestServer();
    const port = await freePort();
    serviceUrl = `http://127.0.0.1:${port}`;
    service = await startExample(process.execPath, [join(EXAMPLES, 'express-service.mjs')], { SCOPE_AUTH_ISSUER: server.issuer, PORT: String(port) });
  });
  afterAll(async () => {
    await service?.stop();
    await server?.close();
  });

  const runClient = (key: { orgId: string; keyId: string; secret: string }) =>
    runExample(process.execPath, [join(EXAMPLES, 'client.mjs')], {
      SCOPE_ORG_ID: key.orgId,
      SCOPE_API_KEY: key.keyId,
      SCOPE_API_SECRET: key.secret,
      SCOPE_AUTH_API_URL: server.url,
      SERVICE_URL: serviceUrl,
    });

  it('gets a 201 with the key of an app granted runtime:run', async () => {
    const run = await runClient(await appWithKey(server, 'runner', ['runtime:run']));
    expect(run.stdout, run.stderr).toContain('→ 201');
    expect(run.code).toBe(0);
  });

  it('gets a 403 with the key of an app without it', async () => {
    const run = await runClient(await appWithKey(server, 'reader', ['agents:view']));
    expect(run.stdout, run.stderr).toContain('→ 403');
  });

  it('says why it got no token for a wrong secret, and exits 1', async () => {
    const key = await appWithKey(server, 'wrong', ['runtime:run']);
    const run = await runClient({ ...key, secret: `${key.secret.slice(0, -4)}AAAA` });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('invalid_client');
    expect(run.stderr).not.toContain(key.secret);
  });
});
