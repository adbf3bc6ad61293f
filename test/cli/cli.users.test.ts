// `scope-auth users …`, spawned as the real bin against a test database: invite prints the
// link, every --json output is what the HTTP API answers for the same person, and the last
// owner is kept unless the operator says --force. On SQLite (cli.database.test.ts covers the
// dialects; these commands call the same domain functions as the API).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../helpers/clock.js';
import { buildCli, databaseUrlFor, type Cli } from '../helpers/cli.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { enrol } from '../helpers/mfa.js';
import { cookieOf, PASSWORD, session, signIn, tokenOf } from '../helpers/people.js';

interface Person {
  id: string;
  email: string;
  role: string;
  status: string;
}

describe('scope-auth users', () => {
  let cli: Cli;
  let ctx: TestContext;
  let env: Record<string, string>;
  let orgId: string;
  beforeAll(async () => {
    cli = await buildCli();
    ctx = await createTestContext({ dialect: 'sqlite', clock: createTestClock(Date.now()) });
    env = { SCOPE_AUTH_DATABASE_URL: databaseUrlFor(ctx.database) };
    orgId = (await ctx.createOrg('Acme')).org.id;
  });
  afterAll(async () => {
    cli?.remove();
    await ctx?.close();
  });
  const run = (...args: string[]) => cli.run(args, env);
  const json = <T = Record<string, unknown>>(...args: string[]) => cli.json<T>(args, env);

  it('invites, printing a one-time link to hand over, and the link makes the person', async () => {
    const human = await run('users', 'invite', '--org', orgId, '--email', 'ada@example.com', '--role', 'owner');
    expect(human.code).toBe(0);
    expect(human.stderr).toBe('');
    expect(human.stdout).toMatch(/^Invited ada@example\.com \(usr_[0-9A-Z]{26}\) as owner of org_\S+:\n\n {2}http:\/\/scope-auth\.test\/console\/invitations\/[A-Za-z0-9_-]{43}\n/);
    expect(human.stdout).toContain('the server sends no mail');
    const url = /(http:\/\/\S+)/.exec(human.stdout)![1]!;
    const res = await request(ctx.app).post(`/v1/invitations/${tokenOf(url)}`).send({ name: 'Ada', password: PASSWORD }).expect(201);
    expect(res.body.user).toMatchObject({ email: 'ada@example.com', role: 'owner', created_by: 'cli', created_by_name: 'cli' });
  });

  it('prints with --json what the API answers: invite as POST /v1/users, list as GET /v1/users', async () => {
    const invited = await json<{ user: Person; invitation_url: string }>('users', 'invite', '--org', orgId, '--email', 'bob@example.com', '--role', 'viewer');
    expect(Object.keys(invited).sort()).toEqual(['invitation_url', 'user']);
    expect(invited.user).toMatchObject({ email: 'bob@example.com', role: 'viewer', status: 'invited' });
    const owner = await signIn(ctx.app, 'ada@example.com').expect(201);
    const ada = { cookie: cookieOf(owner), csrf: owner.body.csrf_token as string };
    expect((await session(ctx.app, ada).get(`/v1/users/${invited.user.id}`).expect(200)).body).toEqual(invited.user);
    const fromApi = (await session(ctx.app, ada).get('/v1/users').expect(200)).body;
    expect(await json('users', 'list', '--org', orgId)).toEqual(fromApi);
    const table = await run('users', 'list', '--org', orgId);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+EMAIL\s+NAME\s+ROLE\s+STATUS\s+LAST SIGN-IN\s+CREATED$/);
    expect(table.stdout).toContain('bob@example.com');
  });

  it('disables (ending the sessions) and enables a person, and prints a password-reset link', async () => {
    const owner = await signIn(ctx.app, 'ada@example.com').expect(201);
    const ada = { cookie: cookieOf(owner), csrf: owner.body.csrf_token as string };
    const adaId = owner.body.user.id as string;
    const viewer = await json<{ user: Person; invitation_url: string }>('users', 'invite', '--org', orgId, '--email', 'val@example.com', '--role', 'viewer');
    await request(ctx.app).post(`/v1/invitations/${tokenOf(viewer.invitation_url)}`).send({ name: 'Val', password: PASSWORD }).expect(201);
    const disabled = await json<Person>('users', 'disable', viewer.user.id, '--org', orgId);
    expect(disabled.status).toBe('disabled');
    await signIn(ctx.app, 'val@example.com').expect(401);
    expect((await run('users', 'enable', viewer.user.id, '--org', orgId)).stdout).toBe(`Enabled val@example.com (${viewer.user.id}).\n`);
    await signIn(ctx.app, 'val@example.com').expect(201);

    const reset = await json<{ reset_url: string }>('users', 'reset-password', adaId, '--org', orgId);
    expect(reset.reset_url).toMatch(/^http:\/\/scope-auth\.test\/console\/password-reset\/[A-Za-z0-9_-]{43}$/);
    await session(ctx.app, ada).get('/v1/me').expect(401);
  });

  it('keeps the last owner unless told --force, and deletes', async () => {
    const list = await json<{ data: Person[] }>('users', 'list', '--org', orgId);
    const ada = list.data.find((p) => p.email === 'ada@example.com')!;
    const refused = await run('users', 'disable', ada.id, '--org', orgId);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^scope-auth: this is the last active owner of the organization; .* --force .*\n$/);
    expect((await json<Person>('users', 'disable', ada.id, '--org', orgId, '--force')).status).toBe('disabled');
    const [forced] = (await request(ctx.app).get('/v1/audit').set('Authorization', `Bearer ${(await ctx.tokenFor(['admin.audit:view'], { orgId })).token}`).expect(200)).body.data;
    expect(forced).toMatchObject({ actor: 'cli', action: 'user.updated', details: { forced: 'last_owner' } });
    expect(await json('users', 'delete', ada.id, '--org', orgId)).toEqual({ id: ada.id, deleted: true });
  });

  it('resets the second factor of an org’s only owner, who lost phone and recovery codes: they sign in with their password again', async () => {
    const lone = (await ctx.createOrg('Lone')).org.id;
    const invited = await json<{ user: Person; invitation_url: string }>('users', 'invite', '--org', lone, '--email', 'lone@example.com', '--role', 'owner');
    const joined = await request(ctx.app).post(`/v1/invitations/${tokenOf(invited.invitation_url)}`).send({ name: 'Lone', password: PASSWORD }).expect(201);
    await enrol(ctx.app, ctx.clock, { cookie: cookieOf(joined), csrf: joined.body.csrf_token as string });
    expect((await signIn(ctx.app, 'lone@example.com').expect(401)).body.code).toBe('mfa_required');
    const human = await run('users', 'reset-mfa', invited.user.id, '--org', lone);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe(`Removed the second factor of lone@example.com (${invited.user.id}); they can enrol a new one.\n`);
    expect(await json('users', 'reset-mfa', invited.user.id, '--org', lone)).toMatchObject({ id: invited.user.id, mfa_enabled: false });
    await signIn(ctx.app, 'lone@example.com').expect(201);
  });

  it('answers a wrong command line with exit 2 and one line on stderr', async () => {
    const role = await run('users', 'invite', '--org', orgId, '--email', 'x@example.com', '--role', 'admin');
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/^scope-auth: option '--role <role>' argument 'admin' is invalid\. Allowed choices are viewer, editor, owner\.\n$/);
    const email = await run('users', 'invite', '--org', orgId, '--email', 'not an email', '--role', 'viewer');
    expect(email.code).toBe(2);
    expect(email.stderr).toMatch(/^scope-auth: --email: expected an email address/);
    const id = await run('users', 'disable', 'key_01JA0000000000000000000000', '--org', orgId);
    expect(id.code).toBe(2);
    expect(id.stderr).toContain('expected a user id (usr_…)');
  });
});
