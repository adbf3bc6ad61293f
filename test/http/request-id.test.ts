// X-Request-Id through the whole server: made or kept, echoed on every response whoever
// answers it (raw routes and express alike), and on every log line of the request.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { loggedApp, type LoggedApp } from '../helpers/log-lines.js';

const MADE = /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/;

describe('X-Request-Id', () => {
  let ctx: TestContext;
  let logged: LoggedApp;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
    logged = loggedApp(ctx.deps, 'info');
  });
  afterAll(async () => ctx?.close());

  it('is made for every response that came without one, raw routes and express alike, and logged with it', async () => {
    const answers = [
      await request(logged.app).get('/.well-known/jwks.json'),
      await request(logged.app).post('/v1/token').send({}),
      await request(logged.app).post('/oauth2/token').type('form').send('grant_type=client_credentials'),
      await request(logged.app).get('/healthz'),
      await request(logged.app).get('/v1/apps'),
      await request(logged.app).get('/no/such/path'),
    ];
    const ids = answers.map((res) => res.headers['x-request-id'] as string);
    for (const id of ids) expect(id).toMatch(MADE);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(logged.linesOf(id)).toEqual([expect.objectContaining({ msg: 'request completed' })]);
  });

  it("keeps the caller's id on the response and the line, for a token and an admin call", async () => {
    const client = await ctx.createClient(['tools:deploy']);
    const token = await request(logged.app)
      .post('/v1/token')
      .set('X-Request-Id', 'lb-7f3a:0001')
      .send({ org_id: client.orgId, key_id: client.keyId, secret: client.secret })
      .expect(200);
    expect(token.headers['x-request-id']).toBe('lb-7f3a:0001');
    expect(logged.linesOf('lb-7f3a:0001')).toEqual([expect.objectContaining({ outcome: 'issued', key_id: client.keyId })]);
    const admin = await request(logged.app).get('/v1/apps').set('X-Request-Id', 'lb-7f3a:0002').set('Authorization', `Bearer ${token.body.access_token}`);
    expect(admin.headers['x-request-id']).toBe('lb-7f3a:0002');
    expect(logged.linesOf('lb-7f3a:0002')).toEqual([expect.objectContaining({ actor: client.keyId })]);
  });
});

describe('X-Request-Id on the error lines of a request', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
  });
  afterAll(async () => ctx?.close().catch(() => undefined));

  it('is on the line of an unexpected failure too, so it can be found from the 500 the client got', async () => {
    const client = await ctx.createClient(['tools:deploy']);
    const token = await ctx.tokenOf(client);
    const logged = loggedApp(ctx.deps, 'info');
    await ctx.database.handle.close();
    const exchange = await request(logged.app).post('/v1/token').set('X-Request-Id', 'broken-1').send({ org_id: client.orgId, key_id: client.keyId, secret: client.secret });
    const admin = await request(logged.app).get('/v1/apps').set('X-Request-Id', 'broken-2').set('Authorization', `Bearer ${token}`);
    expect([exchange.status, admin.status]).toEqual([500, 500]);
    expect(logged.linesOf('broken-1').map((line) => [line.level, line.msg])).toEqual([
      [50, 'unhandled error in token endpoint'],
      [50, 'request completed'],
    ]);
    expect(logged.linesOf('broken-2').map((line) => [line.level, line.msg])).toEqual([
      [50, 'unhandled error'],
      [50, 'request completed'],
    ]);
  });
});
