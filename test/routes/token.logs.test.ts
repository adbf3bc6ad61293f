// The token endpoints' log lines answer "who did what": one line per exchange, with the org,
// the key, the client's address and the outcome (and why a credential was refused), never a
// secret or a token; load shedding is one warn line a second with its count.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext, type TestCredentials } from '../helpers/context.js';
import { loggedApp, type LoggedApp } from '../helpers/log-lines.js';

const bodyOf = (c: TestCredentials, scope?: string) => ({ org_id: c.orgId, key_id: c.keyId, secret: c.secret, ...(scope === undefined ? {} : { scope }) });

describe('the log line of a token exchange', () => {
  let ctx: TestContext;
  let logged: LoggedApp;
  let counter = 0;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite', env: { SCOPE_AUTH_TRUST_PROXY: 'true', SCOPE_AUTH_THROTTLE_KEY_FAILURES: '2' } });
    logged = loggedApp(ctx.deps);
  });
  afterAll(async () => ctx?.close());

  /** POST /v1/token from `ip`; resolves to the response and the lines of that request. */
  async function exchange(body: object, ip = '10.9.0.1', path = '/v1/token') {
    const id = `t-${++counter}`;
    const res = await request(logged.app).post(path).set('X-Forwarded-For', ip).set('X-Request-Id', id).send(body);
    expect(res.headers['x-request-id']).toBe(id);
    return { res, lines: logged.linesOf(id) };
  }

  it('is one line for an issued token: org, key, client address and outcome, with the request id and status', async () => {
    const client = await ctx.createClient(['tools:deploy']);
    const { res, lines } = await exchange(bodyOf(client), '10.9.0.7');
    expect(res.status).toBe(200);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        request_id: res.headers['x-request-id'],
        org_id: client.orgId,
        key_id: client.keyId,
        ip: '10.9.0.7',
        outcome: 'issued',
        req: { method: 'POST', path: '/v1/token' },
        res: { status: 200 },
      }),
    ]);
    expect(lines[0]).not.toHaveProperty('reason');
    expect(logged.text()).not.toContain(client.secret);
    expect(logged.text()).not.toContain(res.body.access_token);
  });

  it('names the reason of each refused credential, as the audit log does', async () => {
    const client = await ctx.createClient(['tools:deploy']);
    const other = await ctx.createOrg('globex');
    const revoked = await ctx.createClient(['tools:deploy']);
    await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now() }).where('id', '=', revoked.keyId).execute();
    const wrong = { ...client, secret: (await ctx.createClient(['tools:deploy'])).secret };
    const unknownKey = { ...client, keyId: 'key_01JZZZZZZZZZZZZZZZZZZZZZZZ' };

    const cases = [
      { body: bodyOf(wrong), ip: '10.9.1.1', fields: { org_id: client.orgId, key_id: client.keyId, reason: 'wrong_secret' } },
      { body: bodyOf(unknownKey), ip: '10.9.1.2', fields: { org_id: client.orgId, key_id: unknownKey.keyId, reason: 'unknown_key' } },
      { body: bodyOf({ ...client, orgId: other.org.id }), ip: '10.9.1.3', fields: { org_id: client.orgId, claimed_org_id: other.org.id, key_id: client.keyId, reason: 'org_mismatch' } },
      { body: bodyOf(revoked), ip: '10.9.1.4', fields: { org_id: revoked.orgId, key_id: revoked.keyId, reason: 'revoked' } },
    ];
    for (const { body, ip, fields } of cases) {
      const { res, lines } = await exchange(body, ip);
      expect(res.status).toBe(401);
      expect(lines).toEqual([expect.objectContaining({ ...fields, ip, outcome: 'invalid_client', res: { status: 401 } })]);
    }
    for (const secret of [client.secret, wrong.secret, revoked.secret]) expect(logged.text()).not.toContain(secret);
  });

  it('leaves out ids that are not well formed, so a secret sent in the wrong field is not logged', async () => {
    const client = await ctx.createClient(['tools:deploy']);
    const { res, lines } = await exchange({ org_id: client.secret, key_id: client.secret, secret: client.keyId }, '10.9.2.1');
    expect(res.status).toBe(401);
    expect(lines).toEqual([expect.objectContaining({ org_id: null, key_id: null, outcome: 'invalid_client', reason: 'malformed_credentials' })]);
    expect(logged.text()).not.toContain(client.secret);
  });

  it('says invalid_scope for a scope the key is not granted', async () => {
    const client = await ctx.createClient(['tools:deploy']);
    const { res, lines } = await exchange(bodyOf(client, 'models:deploy'), '10.9.3.1');
    expect(res.status).toBe(400);
    expect(lines).toEqual([expect.objectContaining({ org_id: client.orgId, key_id: client.keyId, outcome: 'invalid_scope', res: { status: 400 } })]);
  });

  it('says throttled once the client is over its limit', async () => {
    const client = await ctx.createClient(['tools:deploy']);
    const wrong = { ...client, secret: (await ctx.createClient(['tools:deploy'])).secret };
    for (let i = 0; i < 2; i++) expect((await exchange(bodyOf(wrong), '10.9.4.1')).res.status).toBe(401);
    const { res, lines } = await exchange(bodyOf(client), '10.9.4.1');
    expect(res.status).toBe(429);
    expect(lines).toEqual([expect.objectContaining({ org_id: client.orgId, key_id: client.keyId, ip: '10.9.4.1', outcome: 'throttled', res: { status: 429 } })]);
  });

  it('is the same line for POST /oauth2/token, the org named by the key, and never the Basic credentials', async () => {
    const client = await ctx.createClient(['tools:deploy']);
    const basic = (secret: string) => {
      const id = `o-${++counter}`;
      const req = request(logged.app).post('/oauth2/token').set('X-Forwarded-For', '10.9.5.1').set('X-Request-Id', id).type('form').auth(client.keyId, secret);
      return req.send('grant_type=client_credentials').then((res) => ({ res, lines: logged.linesOf(id) }));
    };
    const ok = await basic(client.secret);
    expect(ok.res.status).toBe(200);
    expect(ok.lines).toEqual([expect.objectContaining({ org_id: client.orgId, key_id: client.keyId, ip: '10.9.5.1', outcome: 'issued', req: { method: 'POST', path: '/oauth2/token' } })]);
    const wrongSecret = (await ctx.createClient(['tools:deploy'])).secret;
    const refused = await basic(wrongSecret);
    expect(refused.lines).toEqual([expect.objectContaining({ org_id: client.orgId, key_id: client.keyId, outcome: 'invalid_client', reason: 'wrong_secret' })]);
    for (const forbidden of [client.secret, wrongSecret, Buffer.from(`${client.keyId}:${client.secret}`).toString('base64'), ok.res.body.access_token]) {
      expect(logged.text()).not.toContain(forbidden);
    }
  });
});

describe('load shedding in the logs', () => {
  let ctx: TestContext;
  let server: Server | undefined;
  beforeAll(async () => {
    // One verification at a time and none waiting, slow enough that a burst overlaps it.
    ctx = await createTestContext({
      dialect: 'sqlite',
      env: { SCOPE_AUTH_ARGON2_CONCURRENCY: '1', SCOPE_AUTH_ARGON2_QUEUE_LIMIT: '0', SCOPE_AUTH_ARGON2_MEMORY_KIB: '32768', SCOPE_AUTH_ARGON2_TIME_COST: '3' },
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await ctx?.close();
  });

  it('writes one warn line a second with the count of 503s, and each 503 only at debug', async () => {
    const logged = loggedApp(ctx.deps, 'debug');
    server = createServer(logged.app);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/token`;
    const clients = await Promise.all(Array.from({ length: 8 }, () => ctx.createClient(['tools:deploy'])));
    const statuses = await Promise.all(
      clients.map((c) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bodyOf(c)) }).then((res) => res.status)),
    );
    const shed = statuses.filter((s) => s === 503).length;
    expect(shed).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 503).every((s) => s === 200)).toBe(true);

    const requestLines = logged.lines.filter((line) => line.msg === 'request completed' && (line['res'] as { status: number }).status === 503);
    expect(requestLines).toHaveLength(shed);
    for (const line of requestLines) expect(line).toMatchObject({ level: 20, outcome: 'unavailable', reason: 'busy' });

    const warnings = () => logged.lines.filter((line) => line.level === 40);
    const deadline = Date.now() + 3000;
    while (warnings().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(warnings()).toEqual([
      expect.objectContaining({ msg: 'argon2 queue full: token exchanges answered 503 temporarily_unavailable', count: shed, window_ms: 1000, retry_after_seconds: expect.any(Number) }),
    ]);
  });
});
