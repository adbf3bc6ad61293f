// A rolling restart loses nothing: when a running server is asked to stop, /readyz says
// `draining` at once, every answer closes its connection (so keep-alive clients move on after
// the answer they wait for), the requests in flight finish, and last-used figures are written.
// Before, busy keep-alive connections were served until the 10 s drain limit and then each
// lost its in-flight request. A real server on real sockets; SIGTERM on real processes is in
// test/cluster.
import { Agent, request as httpRequest } from 'node:http';
import request from 'supertest';
import { createDatabase } from '../../src/store/database.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Answer {
  status: number;
  connection: string | undefined;
  body: string;
}

function post(agent: Agent, url: string, body: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/v1/token`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('draining on stop', () => {
  let server: TestServer | undefined;
  let ctx: TestContext | undefined;
  afterEach(async () => {
    await server?.close().catch(() => undefined);
    await ctx?.close();
    server = undefined;
    ctx = undefined;
  });

  it('finishes the exchanges in flight, each answered with Connection: close, and refuses new connections', async () => {
    // argon2 costly enough that the exchanges are still running when the stop begins.
    server = await startTestServer({ env: { SCOPE_AUTH_ARGON2_MEMORY_KIB: '65536', SCOPE_AUTH_ARGON2_TIME_COST: '3', SCOPE_AUTH_VERIFIED_CACHE_SIZE: '0' } });
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const credentials = { org_id: server.orgId, key_id: server.keyId, secret: server.secret };
    // Warm the keep-alive connections first, as a busy client's would be.
    const warm = await Promise.all([1, 2, 3, 4].map(() => post(agent, server!.url, credentials)));
    expect(warm.map((a) => [a.status, a.connection])).toEqual(warm.map(() => [200, 'keep-alive']));

    const inFlight = [1, 2, 3, 4].map(() => post(agent, server!.url, credentials));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const closed = server.server.close();
    const answers = await Promise.all(inFlight);
    expect(answers.map((a) => [a.status, a.connection])).toEqual(answers.map(() => [200, 'close']));
    await closed;
    await expect(post(new Agent(), server.url, credentials)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    agent.destroy();
  });

  it('writes the last-used figures of the exchanges it answered before it stops', async () => {
    server = await startTestServer();
    const credentials = { org_id: server.orgId, key_id: server.keyId, secret: server.secret };
    const agent = new Agent({ keepAlive: true });
    for (let i = 0; i < 3; i++) expect((await post(agent, server.url, credentials)).status).toBe(200);
    agent.destroy();
    await server.server.close();
    // The server's database is closed now; read the row through a fresh connection to the file.
    const reopened = await createDatabase(server.server.deps.config.databaseUrl);
    const row = await reopened.db.selectFrom('api_keys').select(['use_count', 'last_used_at']).where('id', '=', server.keyId).executeTakeFirstOrThrow();
    await reopened.close();
    expect(row.use_count).toBe(3);
    expect(row.last_used_at).not.toBeNull();
  });

  it('answers /readyz 503 draining at once, and every response closes its connection', async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
    await request(ctx.app).get('/readyz').expect(200);
    ctx.deps.lifecycle.drain();
    const ready = await request(ctx.app).get('/readyz').expect(503);
    expect(ready.body).toEqual({ status: 'draining' });
    expect(ready.headers.connection).toBe('close');
    const health = await request(ctx.app).get('/healthz').expect(200);
    expect(health.headers.connection).toBe('close');
    const token = await ctx.exchange(ctx.rootCredentials).expect(200);
    expect(token.headers.connection).toBe('close');
  });
});
