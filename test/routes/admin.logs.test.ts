// The admin API's log lines answer "who did what": every call's line names the key that
// called (when a token of this server was verified), and a refusal's line its code and the
// scope the caller lacked.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { loggedApp, type LoggedApp } from '../helpers/log-lines.js';

describe('the log line of an admin call', () => {
  let ctx: TestContext;
  let logged: LoggedApp;
  let counter = 0;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
    logged = loggedApp(ctx.deps);
  });
  afterAll(async () => ctx?.close());

  /** The one line of a request made by `send`, which gets the request with its id set. */
  async function lineOf(send: (req: request.Agent) => request.Test, status: number) {
    const id = `a-${++counter}`;
    const agent = request.agent(logged.app).set('X-Request-Id', id);
    const res = await send(agent);
    expect(res.status).toBe(status);
    const lines = logged.linesOf(id);
    expect(lines).toHaveLength(1);
    return lines[0]!;
  }

  it('names the calling key and its org on a call that succeeds', async () => {
    const caller = await ctx.tokenFor(['admin.apps:view']);
    const line = await lineOf((req) => req.get('/v1/apps').set('Authorization', `Bearer ${caller.token}`), 200);
    expect(line).toMatchObject({ level: 30, actor: caller.keyId, org_id: caller.orgId, req: { method: 'GET', path: '/v1/apps' }, res: { status: 200 } });
    expect(line).not.toHaveProperty('code');
    expect(logged.text()).not.toContain(caller.token);
  });

  it('says unauthenticated, with no actor, for a call without a token or with a junk one', async () => {
    const none = await lineOf((req) => req.get('/v1/apps'), 401);
    expect(none).toMatchObject({ code: 'unauthenticated', res: { status: 401 } });
    expect(none).not.toHaveProperty('actor');
    const junk = await lineOf((req) => req.get('/v1/apps').set('Authorization', 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'), 401);
    expect(junk).toMatchObject({ code: 'unauthenticated' });
    expect(junk).not.toHaveProperty('actor');
    expect(logged.text()).not.toContain('eyJzdWIiOiJ4In0');
  });

  it('names the key of a valid token whose key was revoked since', async () => {
    const caller = await ctx.tokenFor(['admin.apps:view']);
    await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now() }).where('id', '=', caller.keyId).execute();
    const line = await lineOf((req) => req.get('/v1/apps').set('Authorization', `Bearer ${caller.token}`), 401);
    expect(line).toMatchObject({ code: 'unauthenticated', actor: caller.keyId, org_id: caller.orgId });
  });

  it('names the caller and the scope it lacks on a 403', async () => {
    const caller = await ctx.tokenFor(['admin.audit:view']);
    const line = await lineOf((req) => req.post('/v1/apps').set('Authorization', `Bearer ${caller.token}`).send({ name: 'x', scopes: [] }), 403);
    expect(line).toMatchObject({ code: 'insufficient_scope', actor: caller.keyId, org_id: caller.orgId, missing_scope: 'admin.apps:full', res: { status: 403 } });
  });

  it('names the scopes a caller tried to grant beyond its own', async () => {
    const caller = await ctx.tokenFor(['admin.apps:full']);
    const line = await lineOf(
      (req) => req.post('/v1/apps').set('Authorization', `Bearer ${caller.token}`).send({ name: 'auditor', scopes: ['admin.audit:view', 'tokens:introspect'] }),
      403,
    );
    expect(line).toMatchObject({ code: 'exceeds_caller_scope', actor: caller.keyId, missing_scope: 'admin.audit:view tokens:introspect' });
  });
});
