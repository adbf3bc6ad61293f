// What both example downstream services (Express with the SDK verifier, Python with PyJWT)
// must answer, run against each: a real server, a key whose app holds runtime:run, one whose
// app does not.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, startTestServer, type TestServer } from '../helpers/server.js';
import { appWithKey, postRun, resignedWithTyp, tokenOf, type RunningExample } from '../helpers/examples.js';

export function downstreamServiceCases(start: (env: Record<string, string>) => Promise<RunningExample>): void {
  let server: TestServer;
  let service: RunningExample;
  let url: string;
  let runnerToken: string;
  let readerToken: string;
  beforeAll(async () => {
    server = await startTestServer();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    service = await start({ SCOPE_AUTH_ISSUER: server.issuer, PORT: String(port) });
    runnerToken = await tokenOf(server, await appWithKey(server, 'runner', ['runtime:run']));
    readerToken = await tokenOf(server, await appWithKey(server, 'reader', ['agents:view']));
  });
  afterAll(async () => {
    await service?.stop();
    await server?.close();
  });

  it('answers 201 to a token holding runtime:run, naming its org and key', async () => {
    const res = await postRun(url, runnerToken);
    expect(res.status, service.output()).toBe(201);
    expect(res.body).toMatchObject({ run: 'started', org_id: server.orgId, key_id: expect.stringMatching(/^key_/) });
  });

  it('answers 403 insufficient_scope to a valid token without runtime:run', async () => {
    const res = await postRun(url, readerToken);
    expect(res.status).toBe(403);
    expect(res.challenge).toMatch(/error="insufficient_scope"/);
  });

  it('answers 401 without a token, and to a token that is not a JWT', async () => {
    expect((await postRun(url)).status).toBe(401);
    const bad = await postRun(url, 'not-a-token');
    expect(bad.status).toBe(401);
    expect(bad.challenge).toMatch(/error="invalid_token"/);
  });

  it('answers 401 to a token signed by the server’s own key whose typ is not at+jwt', async () => {
    const res = await postRun(url, await resignedWithTyp(server, runnerToken, 'JWT'));
    expect(res.status).toBe(401);
    expect(res.challenge).toMatch(/error="invalid_token"/);
  });

  it('answers 401 to a token of another issuer’s audience', async () => {
    const other = await startTestServer();
    try {
      const token = await tokenOf(other, await appWithKey(other, 'elsewhere', ['runtime:run']));
      expect((await postRun(url, token)).status).toBe(401);
    } finally {
      await other.close();
    }
  });
}
