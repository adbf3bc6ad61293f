// The checks every protected route must pass, shared by each route's security file (as
// Unkey's runCommonAuthTests): no token, junk token, expired token, revoked caller key, a
// disabled caller org, a token of another org, and a token without the route's scope; and
// the same with a person's session instead of a token (no or a junk cookie, an ended,
// revoked or idle session, a disabled person, a person of another org, a role without the
// scope), the CSRF check of a session's changes, and a bearer token winning over a cookie.
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ROLES, roleScopes } from '../../src/domain/roles.js';
import type { TestContext } from './context.js';
import { orgSnapshot } from './admin.js';
import { asPerson, COOKIE, createPerson, ORIGIN, type SignedIn } from './people.js';

export interface ProtectedRoute {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  /** Builds the path in `orgId`, creating whatever object it names (fresh for every call). */
  path(ctx: TestContext, orgId: string): Promise<string> | string;
  readonly body?: object;
  /** The scope whose absence is a 403 naming it. */
  readonly scope: string;
  /** The scopes of the token without it; default: every built-in that does not imply `scope`. */
  readonly heldWithout?: readonly string[];
  /**
   * What a token of another org (holding every scope its org may hold) gets: 404 for routes
   * naming an object of the first org, 403 for root-only routes.
   */
  readonly otherOrg?: 404 | 403;
  /** False for the routes that take only a bearer token (introspection). */
  readonly sessions?: boolean;
}

const ADMIN_SCOPES = ['admin.apps:full', 'admin.audit:view', 'admin.orgs:full', 'admin.users:full', 'admin.webhooks:full', 'tokens:introspect'];

function send(ctx: TestContext, route: ProtectedRoute, path: string, token?: string) {
  let req = request(ctx.app)[route.method](path);
  if (token !== undefined) req = req.set('Authorization', `Bearer ${token}`);
  return route.body === undefined ? req : req.send(route.body);
}

/** The route with a person's session; `headers` replace the CSRF token and Origin the helper sends. */
function sendAs(ctx: TestContext, route: ProtectedRoute, path: string, person: SignedIn, headers?: Record<string, string>) {
  let req = request(ctx.app)[route.method](path);
  req = headers === undefined ? asPerson(req, person) : asPerson(req, person, { csrf: false }).set(headers);
  return route.body === undefined ? req : req.send(route.body);
}

function expectProblem(res: request.Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: `urn:scope-auth:problem:${code}` });
}

export function runCommonAuthTests(getCtx: () => TestContext, route: ProtectedRoute): void {
  const label = `${route.method.toUpperCase()}`;

  it(`${label} answers 401 with WWW-Authenticate: Bearer when there is no token`, async () => {
    const ctx = getCtx();
    const res = await send(ctx, route, await route.path(ctx, ctx.root.org.id));
    expectProblem(res, 401, 'unauthenticated');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="scope-auth"$/);
  });

  it(`${label} answers 401 invalid_token for a junk token and for a token of another issuer`, async () => {
    const ctx = getCtx();
    const path = await route.path(ctx, ctx.root.org.id);
    for (const token of ['junk', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'a'.repeat(9000)]) {
      const res = await send(ctx, route, path, token);
      expectProblem(res, 401, 'unauthenticated');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="scope-auth", error="invalid_token"/);
    }
    const basic = await request(ctx.app)[route.method](path).set('Authorization', 'Basic Zm9vOmJhcg==');
    expectProblem(basic, 401, 'unauthenticated');
  });

  it(`${label} answers 401 for an expired token`, async () => {
    const ctx = getCtx();
    const { token } = await ctx.tokenFor(ADMIN_SCOPES);
    ctx.clock.advance(901_000);
    const res = await send(ctx, route, await route.path(ctx, ctx.root.org.id), token);
    expectProblem(res, 401, 'unauthenticated');
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it(`${label} answers 401 once the caller's own key is revoked, or its app deleted`, async () => {
    const ctx = getCtx();
    const caller = await ctx.tokenFor(ADMIN_SCOPES);
    await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now(), revoked_by: 'cli' }).where('id', '=', caller.keyId).execute();
    expectProblem(await send(ctx, route, await route.path(ctx, ctx.root.org.id), caller.token), 401, 'unauthenticated');

    const other = await ctx.tokenFor(ADMIN_SCOPES);
    await ctx.db.updateTable('apps').set({ deleted_at: ctx.clock.now() }).where('id', '=', other.appId).execute();
    expectProblem(await send(ctx, route, await route.path(ctx, ctx.root.org.id), other.token), 401, 'unauthenticated');
  });

  it(`${label} answers 401 once the caller's org is disabled, and again after it is enabled`, async () => {
    const ctx = getCtx();
    const tenant = await ctx.createOrg('soon disabled');
    const caller = await ctx.tokenFor(ADMIN_SCOPES, { orgId: tenant.org.id });
    const path = await route.path(ctx, ctx.root.org.id);
    const before = await orgSnapshot(ctx, ctx.root.org.id);
    await ctx.db.updateTable('orgs').set({ disabled_at: ctx.clock.now() }).where('id', '=', tenant.org.id).execute();
    const res = await send(ctx, route, path, caller.token);
    expectProblem(res, 401, 'unauthenticated');
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
    await ctx.db.updateTable('orgs').set({ disabled_at: null }).where('id', '=', tenant.org.id).execute();
    expect((await send(ctx, route, path, caller.token)).status).not.toBe(401);
  });

  it(`${label} answers 403 naming ${route.scope} when the token lacks it`, async () => {
    const ctx = getCtx();
    // Every built-in scope except the required one and those that imply it.
    const held = route.heldWithout ?? ctx.deps.catalog.builtins.filter((s) => !ctx.deps.catalog.expand([s]).includes(route.scope));
    const { token } = await ctx.tokenFor([...held, 'agents:full']);
    const path = await route.path(ctx, ctx.root.org.id);
    const before = await orgSnapshot(ctx, ctx.root.org.id);
    const res = await send(ctx, route, path, token);
    expectProblem(res, 403, 'insufficient_scope');
    expect(res.body.detail).toContain(route.scope);
    expect(res.body.required_scope).toContain(route.scope);
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
  });

  if (route.sessions !== false) describe('with a session', () => runSessionAuthTests(getCtx, route));

  if (route.otherOrg !== undefined) {
    const status = route.otherOrg;
    it(`${label} answers ${status} to an admin of another org and changes nothing`, async () => {
      const ctx = getCtx();
      const other = await ctx.createOrg('other');
      // Every admin scope, even admin.orgs:full, which no app outside the root org can be granted.
      const { token } = await ctx.tokenFor(ADMIN_SCOPES, { orgId: other.org.id });
      const path = await route.path(ctx, ctx.root.org.id);
      const before = await orgSnapshot(ctx, ctx.root.org.id);
      const res = await send(ctx, route, path, token);
      expectProblem(res, status, status === 404 ? 'not_found' : 'forbidden');
      expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
    });
  }
}

function runSessionAuthTests(getCtx: () => TestContext, route: ProtectedRoute): void {
  const label = `${route.method.toUpperCase()}`;
  const changes = route.method !== 'get';

  it(`${label} answers 401 for a junk session cookie, and clears it`, async () => {
    const ctx = getCtx();
    const path = await route.path(ctx, ctx.root.org.id);
    for (const value of ['junk', 'A'.repeat(43), 'x'.repeat(5000)]) {
      const res = await sendAs(ctx, route, path, { userId: '', orgId: '', email: '', cookie: `${COOKIE}=${value}`, csrf: 'junk' });
      expectProblem(res, 401, 'unauthenticated');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="scope-auth"$/);
    }
  });

  it(`${label} answers 401 once the session is signed out, revoked, idle too long or past its end`, async () => {
    const ctx = getCtx();
    const path = await route.path(ctx, ctx.root.org.id);
    const signedOut = await createPerson(ctx);
    await asPerson(request(ctx.app).delete('/v1/sessions/current'), signedOut).expect(204);
    expectProblem(await sendAs(ctx, route, path, signedOut), 401, 'unauthenticated');

    const revoked = await createPerson(ctx);
    await ctx.db.deleteFrom('sessions').where('user_id', '=', revoked.userId).execute();
    expectProblem(await sendAs(ctx, route, path, revoked), 401, 'unauthenticated');

    const idle = await createPerson(ctx);
    const ended = await createPerson(ctx);
    await ctx.db.updateTable('sessions').set({ expires_at: ctx.clock.now() }).where('user_id', '=', ended.userId).execute();
    ctx.clock.advance(ctx.deps.config.people.sessionIdleSeconds * 1000);
    expectProblem(await sendAs(ctx, route, path, idle), 401, 'unauthenticated');
    expectProblem(await sendAs(ctx, route, path, ended), 401, 'unauthenticated');
  });

  it(`${label} answers 401 to a disabled person, and to a person of a disabled org`, async () => {
    const ctx = getCtx();
    const path = await route.path(ctx, ctx.root.org.id);
    const disabled = await createPerson(ctx);
    await ctx.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', disabled.userId).execute();
    expectProblem(await sendAs(ctx, route, path, disabled), 401, 'unauthenticated');
    const tenant = await ctx.createOrg('soon disabled');
    const tenantOwner = await createPerson(ctx, { orgId: tenant.org.id });
    await ctx.db.updateTable('orgs').set({ disabled_at: ctx.clock.now() }).where('id', '=', tenant.org.id).execute();
    expectProblem(await sendAs(ctx, route, path, tenantOwner), 401, 'unauthenticated');
  });

  it(`${label} answers 403 naming ${route.scope} to a person whose role lacks it`, async () => {
    const ctx = getCtx();
    const role = [...ROLES].reverse().find((r) => !roleScopes(ctx.deps.catalog, r, true).includes(route.scope));
    if (role === undefined) return; // every role holds it
    const person = await createPerson(ctx, { role });
    const path = await route.path(ctx, ctx.root.org.id);
    const before = await orgSnapshot(ctx, ctx.root.org.id);
    const res = await sendAs(ctx, route, path, person);
    expectProblem(res, 403, 'insufficient_scope');
    expect(res.body.required_scope).toContain(route.scope);
    expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
  });

  if (route.otherOrg !== undefined) {
    const status = route.otherOrg;
    it(`${label} answers ${status} to an owner of another org and changes nothing`, async () => {
      const ctx = getCtx();
      const other = await ctx.createOrg('other');
      const owner = await createPerson(ctx, { orgId: other.org.id });
      const path = await route.path(ctx, ctx.root.org.id);
      const before = await orgSnapshot(ctx, ctx.root.org.id);
      expect((await sendAs(ctx, route, path, owner)).status).toBe(status);
      expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
    });
  }

  it(`${label} lets a bearer token win over a session cookie`, async () => {
    const ctx = getCtx();
    const owner = await createPerson(ctx);
    const path = await route.path(ctx, ctx.root.org.id);
    const res = await asPerson(request(ctx.app)[route.method](path), owner).set('Authorization', 'Bearer junk').send(route.body);
    expectProblem(res, 401, 'unauthenticated');
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  if (changes) {
    it(`${label} answers 403 csrf_failed to a session without the CSRF token, with a wrong one, or sent from another site, and changes nothing`, async () => {
      const ctx = getCtx();
      const owner = await createPerson(ctx);
      const path = await route.path(ctx, ctx.root.org.id);
      const before = await orgSnapshot(ctx, ctx.root.org.id);
      const attempts: Record<string, string>[] = [
        { Origin: ORIGIN },
        { Origin: ORIGIN, 'X-CSRF-Token': 'wrong' },
        { Origin: ORIGIN, 'X-CSRF-Token': owner.csrf.slice(0, -1) + (owner.csrf.endsWith('A') ? 'B' : 'A') },
        { 'X-CSRF-Token': owner.csrf },
        { 'X-CSRF-Token': owner.csrf, Origin: 'https://evil.example' },
        { 'X-CSRF-Token': owner.csrf, 'Sec-Fetch-Site': 'cross-site', Origin: ORIGIN },
        { 'X-CSRF-Token': owner.csrf, 'Sec-Fetch-Site': 'same-site' },
      ];
      for (const headers of attempts) expectProblem(await sendAs(ctx, route, path, owner, headers), 403, 'csrf_failed');
      expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
      // The same request passes with the token and Sec-Fetch-Site: same-origin (and no Origin).
      const passes = await sendAs(ctx, route, path, owner, { 'X-CSRF-Token': owner.csrf, 'Sec-Fetch-Site': 'same-origin' });
      expect(passes.status).not.toBe(403);
    });
  }
}
