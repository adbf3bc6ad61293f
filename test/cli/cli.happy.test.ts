// The operator CLI, spawned as the real bin against a test database: every data command,
// its human output, and its --json output compared with what the HTTP API answers for the
// same object. On SQLite only: the commands call the same domain functions as the API,
// whose tests run on both dialects, and each spawn costs the better part of a second;
// cli.database.test.ts runs the CLI on each dialect.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../helpers/clock.js';
import { buildCli, databaseUrlFor, type Cli } from '../helpers/cli.js';
import { TEST_AUDIENCES } from '../helpers/catalog.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

const SECRET = /secret_[0-9A-Za-z]{46}/g;
const DAY = 86_400_000;
/** A relative time for "a moment ago" on a busy machine. */
const RECENT = String.raw`(?:just now|\d+ seconds? ago|\d+ minutes? ago)`;
const recent = (pattern: string) => new RegExp(pattern.replaceAll('RECENT', RECENT));

interface Created {
  org: { id: string; name: string };
  admin_app: { id: string };
  key: { id: string; org_id: string };
  secret: string;
}

let cli: Cli;
beforeAll(async () => {
  cli = await buildCli();
});
afterAll(() => cli?.remove());

describe('the scope-auth CLI', () => {
  let ctx: TestContext;
  let env: Record<string, string>;
  let rootToken: string;
  // Shared by the tests below, which follow an operator's day in order.
  let acme: Created;
  let acmeToken: string;
  let appId: string;

  beforeAll(async () => {
    // The CLI runs on the real clock; the in-process API (for comparisons) starts there too.
    ctx = await createTestContext({ dialect: 'sqlite', clock: createTestClock(Date.now()), catalog: { audiences: [...TEST_AUDIENCES] } });
    // The server's KEK, as an operator's shell has it: new keys' lookup digests are made with it.
    env = { SCOPE_AUTH_DATABASE_URL: databaseUrlFor(ctx.database), SCOPE_AUTH_CATALOG: ctx.deps.config.catalogPath!, SCOPE_AUTH_KEK: ctx.kek.toString('base64') };
    rootToken = (await ctx.tokenFor(['admin.orgs:full', 'admin.apps:full', 'admin.audit:view'])).token;
  });
  afterAll(async () => ctx?.close());

  const run = (...args: string[]) => cli.run(args, env);
  const json = <T = Record<string, unknown>>(...args: string[]) => cli.json<T>(args, env);
  const api = (token: string) => ({
    get: (path: string) => request(ctx.app).get(path).set('Authorization', `Bearer ${token}`),
  });

  it('creates organizations, printing the admin secret once, and lists them as GET /v1/orgs does', async () => {
    acme = await json<Created>('orgs', 'create', 'Acme Corp');
    expect(Object.keys(acme).sort()).toEqual(['admin_app', 'key', 'org', 'secret']);
    expect(acme.secret).toMatch(SECRET);
    expect(acme.org).toMatchObject({ name: 'Acme Corp', is_root: false, created_by: 'cli' });
    const token = await ctx.exchange({ orgId: acme.org.id, keyId: acme.key.id, secret: acme.secret }).expect(200);
    acmeToken = token.body.access_token as string;
    expect((await api(acmeToken).get(`/v1/apps/${acme.admin_app.id}`).expect(200)).body).toEqual(acme.admin_app);
    expect((await api(acmeToken).get(`/v1/keys/${acme.key.id}`).expect(200)).body).toEqual(acme.key);

    const human = await run('orgs', 'create', 'Globex');
    expect(human.code).toBe(0);
    expect(human.stderr).toBe('');
    expect(human.stdout).toMatch(/^Created organization Globex \(org_[0-9A-Z]{26}\)\./);
    expect(human.stdout.match(SECRET)).toHaveLength(1);
    expect(human.stdout).toMatch(/SCOPE_ORG_ID=org_\S+\n {2}SCOPE_API_KEY=key_\S+\n {2}SCOPE_API_SECRET=secret_/);
    expect(human.stdout).toContain('Copy the secret now: it is shown only this once and cannot be read again.');

    const fromApi = (await api(rootToken).get('/v1/orgs?limit=200').expect(200)).body;
    const firstPage = await json<{ data: unknown[]; next_cursor: string }>('orgs', 'list', '--limit', '2');
    expect(firstPage.data).toEqual(fromApi.data.slice(0, 2));
    const rest = await json<{ data: unknown[]; next_cursor: null }>('orgs', 'list', '--cursor', firstPage.next_cursor);
    expect(rest).toEqual({ data: fromApi.data.slice(2), next_cursor: null });

    const table = await run('orgs', 'list');
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID {2,}NAME {2,}ROOT {2,}STATUS {2,}CREATED {2,}BY$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(recent(String.raw`^org_\S+ +Globex +enabled +RECENT +cli$`));
    expect(lines[3]).toMatch(recent(String.raw`^org_\S+ +default +yes +enabled +RECENT +system$`));
    // Columns line up: every row has NAME where the header has it.
    const nameColumn = lines[0]!.indexOf('NAME');
    expect(lines.slice(1).map((line) => line.slice(nameColumn).split(' ')[0])).toEqual(['Globex', 'Acme', 'default']);
  });

  it('shows and updates an org, as GET and PATCH /v1/orgs/{org_id} do, audited as the CLI', async () => {
    const org = acme.org.id;
    const shown = await json('orgs', 'show', org);
    expect(shown).toEqual((await api(rootToken).get(`/v1/orgs/${org}`).expect(200)).body);
    const human = await run('orgs', 'show', org);
    expect(human.stdout).toMatch(/^Organization Acme Corp\n/);
    expect(human.stdout).toMatch(/\n {2}allowed scopes +every non-admin scope of the catalogue \(default\)\n/);
    expect(human.stdout).toMatch(/\n {2}status +enabled\n/);

    const limited = await json('orgs', 'update', org, '--allow-scope', 'runtime:run', '--allow-scope', 'agents:view,tools:deploy', '--name', 'Acme Inc');
    expect(limited).toMatchObject({ name: 'Acme Inc', allowed_scopes: ['agents:view', 'runtime:run', 'tools:deploy'] });
    expect((await api(rootToken).get(`/v1/orgs/${org}`).expect(200)).body).toEqual(limited);
    const [event] = (await json<{ data: { actor: string; details: unknown }[] }>('audit', '--org', org, '--action', 'org.updated')).data;
    expect(event).toMatchObject({ actor: 'cli', details: { changes: { name: { from: 'Acme Corp', to: 'Acme Inc' } } } });
    const none = await run('orgs', 'update', org, '--allow-no-scopes');
    expect(none.stdout).toMatch(/^Updated organization Acme Inc\.\n/);
    expect(none.stdout).toMatch(/\n {2}allowed scopes +\(none\)\n/);
    const every = await json('orgs', 'update', org, '--allow-all-scopes', '--name', 'Acme Corp');
    expect(every).toMatchObject({ name: 'Acme Corp', allowed_scopes: null });
    const strict = await run('orgs', 'update', org, '--require-mfa');
    expect(strict.stdout).toMatch(/\n {2}second factor +required of its people\n/);
    expect((await api(rootToken).get(`/v1/orgs/${org}`).expect(200)).body.require_mfa).toBe(true);
    expect(await json('orgs', 'update', org, '--no-require-mfa')).toMatchObject({ require_mfa: false });

    expect(human.stdout).toMatch(/\n {2}unused keys +kept \(never revoked by the server\)\n/);
    const tidy = await run('orgs', 'update', org, '--auto-revoke-unused-days', '90');
    expect(tidy.stdout).toMatch(/\n {2}unused keys +revoked after 90 days unused\n/);
    expect((await api(rootToken).get(`/v1/orgs/${org}`).expect(200)).body.auto_revoke_unused_days).toBe(90);
    const [policy] = (await json<{ data: { actor: string; details: unknown }[] }>('audit', '--org', org, '--action', 'org.updated')).data;
    expect(policy).toMatchObject({ actor: 'cli', details: { changes: { auto_revoke_unused_days: { from: null, to: 90 } } } });
    expect(await json('orgs', 'update', org, '--no-auto-revoke-unused-days')).toMatchObject({ auto_revoke_unused_days: null });
    const created = await json<Created & { org: { auto_revoke_unused_days: number | null } }>('orgs', 'create', 'Tidy Co', '--auto-revoke-unused-days', '30');
    expect(created.org.auto_revoke_unused_days).toBe(30);
  });

  it('disables and enables an org: its keys stop and start working at once', async () => {
    const credentials = { orgId: acme.org.id, keyId: acme.key.id, secret: acme.secret };
    const disabled = await run('orgs', 'disable', acme.org.id);
    expect(disabled.stdout).toBe(`Disabled organization Acme Corp (${acme.org.id}): its keys and admin tokens no longer work.\n`);
    await ctx.exchange(credentials).expect(401);
    expect((await api(acmeToken).get('/v1/apps').expect(401)).body.code).toBe('unauthenticated');
    expect(await json('orgs', 'enable', acme.org.id)).toMatchObject({ id: acme.org.id, disabled: false, disabled_at: null });
    await ctx.exchange(credentials).expect(200);
    await api(acmeToken).get('/v1/apps').expect(200);
  });

  it('deletes an org with its apps and keys, keeping its audit log', async () => {
    const doomed = await json<Created>('orgs', 'create', 'Doomed');
    const human = await run('orgs', 'delete', doomed.org.id);
    expect(human.stdout).toBe(`Deleted organization ${doomed.org.id} with its apps and keys; its audit log stays.\n`);
    await ctx.exchange({ orgId: doomed.org.id, keyId: doomed.key.id, secret: doomed.secret }).expect(401);
    await api(rootToken).get(`/v1/orgs/${doomed.org.id}`).expect(404);
    const log = await json<{ data: { action: string; actor: string }[] }>('audit', '--org', doomed.org.id);
    expect(log.data[0]).toMatchObject({ action: 'org.deleted', actor: 'cli' });
    const again = await json<Created>('orgs', 'create', 'Doomed again');
    expect(await json('orgs', 'delete', again.org.id)).toEqual({ id: again.org.id, deleted: true });
  });

  it('creates, lists, updates and deletes apps, with the objects GET /v1/apps answers', async () => {
    const org = acme.org.id;
    const created = await json<{ id: string }>(
      'apps', 'create', '--org', org, '--name', 'ci-deployer', '--scope', 'tools:deploy', '--scope', 'runtime:run agents:view',
      '--ttl', '10m', '--audience', 'https://api.example.com', '--description', 'Deploys from CI',
    );
    appId = created.id;
    expect(created).toMatchObject({
      org_id: org,
      name: 'ci-deployer',
      description: 'Deploys from CI',
      scopes: ['agents:view', 'runtime:run', 'tools:deploy'],
      effective_scopes: ['agents:view', 'runtime:run', 'sessions:create', 'tools:deploy'],
      audience: 'https://api.example.com',
      token_ttl_seconds: 600,
      created_by: 'cli',
    });
    expect((await api(acmeToken).get(`/v1/apps/${appId}`).expect(200)).body).toEqual(created);

    const human = await run('apps', 'create', '--org', org, '--name', 'scratch', '--scope', 'agents:edit');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Created app scratch \(app_[0-9A-Z]{26}\) in org_/);
    expect(human.stdout).toMatch(/ {2}scopes +agents:edit\n {2}effective scopes +agents:edit agents:view\n/);
    expect(human.stdout).toContain('audience          http://scope-auth.test (server default)');
    expect(human.stdout).toContain('token lifetime    900 s (server default)');
    const scratchId = /Created app scratch \((app_\w+)\)/.exec(human.stdout)![1]!;

    const [listed, table] = await Promise.all([json('apps', 'list', '--org', org), run('apps', 'list', '--org', org)]);
    expect(listed).toEqual((await api(acmeToken).get('/v1/apps').expect(200)).body);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +NAME +SCOPES +TTL +AUDIENCE +CREATED$/);
    expect(table.stdout).toMatch(recent(String.raw`ci-deployer +agents:view runtime:run tools:deploy +600s +https://api\.example\.com +RECENT`));
    expect(table.stdout).toMatch(recent(String.raw`scratch +agents:edit +default +default +RECENT`));

    const updated = await json('apps', 'update', appId, '--org', org, '--scope', 'agents:full', '--no-ttl', '--name', 'deployer');
    expect(updated).toMatchObject({ name: 'deployer', scopes: ['agents:full'], effective_scopes: ['agents:edit', 'agents:full', 'agents:view'], token_ttl_seconds: null });
    expect((await api(acmeToken).get(`/v1/apps/${appId}`).expect(200)).body).toEqual(updated);
    const renamed = await run('apps', 'update', appId, '--org', org, '--no-audience');
    expect(renamed.stdout).toContain(`Updated app deployer (${appId}).`);
    expect(renamed.stdout).toContain('audience          http://scope-auth.test (server default)');

    expect(await json('apps', 'delete', scratchId, '--org', org)).toEqual({ id: scratchId, deleted: true });
    await api(acmeToken).get(`/v1/apps/${scratchId}`).expect(404);
  });

  it('issues keys whose secret is shown once and works, lists them, and revokes, rolls and deletes them', async () => {
    const org = acme.org.id;
    const created = await json<{ key: { id: string; expires_at: string | null }; secret: string }>(
      'keys', 'create', '--org', org, '--app', appId, '--name', 'github-actions',
    );
    expect(Object.keys(created).sort()).toEqual(['key', 'secret']);
    expect((await api(acmeToken).get(`/v1/keys/${created.key.id}`).expect(200)).body).toEqual(created.key);
    expect(created.key).toMatchObject({ app_id: appId, name: 'github-actions', status: 'active', created_by: 'cli', expires_at: null, secret_hint: created.secret.slice(-4) });
    await ctx.exchange({ orgId: org, keyId: created.key.id, secret: created.secret }).expect(200);

    const human = await run('keys', 'create', '--org', org, '--app', appId, '--name', 'laptop', '--expires-in-days', '30');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Created key key_[0-9A-Z]{26} "laptop" for app app_\w+\. It expires in 30 days \(\d{4}-\d\d-\d\dT/);
    const secrets = human.stdout.match(SECRET)!;
    expect(secrets).toHaveLength(1);
    const laptopId = /SCOPE_API_KEY=(key_\w+)/.exec(human.stdout)![1]!;
    await ctx.exchange({ orgId: org, keyId: laptopId, secret: secrets[0]! }).expect(200);
    const laptop = (await api(acmeToken).get(`/v1/keys/${laptopId}`).expect(200)).body;
    // 30 days from when the CLI read the clock, a moment before the key was made.
    expect(Math.abs(Date.parse(laptop.expires_at) - Date.parse(laptop.created_at) - 30 * DAY)).toBeLessThan(1000);

    const [listed, table] = await Promise.all([json('keys', 'list', '--org', org, '--app', appId), run('keys', 'list', '--org', org)]);
    expect(listed).toEqual((await api(acmeToken).get(`/v1/keys?app_id=${appId}`).expect(200)).body);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +APP +NAME +STATUS +SECRET +LAST USED +USES +EXPIRES +CREATED$/);
    expect(table.stdout).toMatch(recent(`${laptopId} +${appId} +laptop +active +…${secrets[0]!.slice(-4)} +never +0 +in 30 days +RECENT`));
    expect(table.stdout.match(SECRET)).toBeNull();

    const revoked = await json<{ status: string }>('keys', 'revoke', laptopId, '--org', org, '--reason', 'left on a train');
    expect(revoked).toMatchObject({ id: laptopId, status: 'revoked', revoked_by: 'cli', revoke_reason: 'left on a train' });
    await ctx.exchange({ orgId: org, keyId: laptopId, secret: secrets[0]! }).expect(401);
    const twice = await run('keys', 'revoke', laptopId, '--org', org, '--reason', 'another');
    expect(twice.stdout).toMatch(recent(`^Key ${laptopId} was already revoked RECENT by cli \\(reason: left on a train\\)\\.\\n$`));
    expect(await json('keys', 'list', '--org', org, '--status', 'revoked')).toEqual({ data: [revoked], next_cursor: null });

    const rolled = await json<{ key: { id: string; name: string; created_at: string }; secret: string }>('keys', 'roll', created.key.id, '--org', org, '--grace', '1h');
    expect(Object.keys(rolled).sort()).toEqual(['key', 'secret']);
    expect(rolled.key).toMatchObject({ name: 'github-actions', app_id: appId, status: 'active', created_by: 'cli' });
    await ctx.exchange({ orgId: org, keyId: rolled.key.id, secret: rolled.secret }).expect(200);
    const old = (await api(acmeToken).get(`/v1/keys/${created.key.id}`).expect(200)).body;
    expect(Date.parse(old.expires_at) - Date.parse(rolled.key.created_at)).toBe(3_600_000);
    const rolledHuman = await run('keys', 'roll', rolled.key.id, '--org', org, '--grace', '0');
    expect(rolledHuman.stdout).toMatch(recent(`^Rolled key ${rolled.key.id}: it keeps working until \\S+ \\(RECENT\\), then expires\\.\\n`));
    expect(rolledHuman.stdout).toMatch(/Its replacement is key_\w+ "github-actions" \(same app, never expires\):/);
    expect(rolledHuman.stdout.match(SECRET)).toHaveLength(1);

    const deleted = await run('keys', 'delete', rolled.key.id, '--org', org);
    expect(deleted.stdout).toBe(`Deleted key ${rolled.key.id}; its exchanges fail from now on.\n`);
    await api(acmeToken).get(`/v1/keys/${rolled.key.id}`).expect(404);
    await ctx.exchange({ orgId: org, keyId: rolled.key.id, secret: rolled.secret }).expect(401);
  });

  it('sets and clears an app\'s allowed IPs, and issues a key with scopes and allowed IPs of its own', async () => {
    const org = acme.org.id;
    const app = await json<{ id: string; allowed_ips: string[] | null }>(
      'apps', 'create', '--org', org, '--name', 'fenced', '--scope', 'agents:edit tools:deploy', '--allow-ip', '203.0.113.0/24', '--allow-ip', '2001:DB8::/32,198.51.100.7',
    );
    expect(app.allowed_ips).toEqual(['203.0.113.0/24', '2001:db8::/32', '198.51.100.7']);
    expect((await api(acmeToken).get(`/v1/apps/${app.id}`).expect(200)).body.allowed_ips).toEqual(app.allowed_ips);

    const key = await json<{ key: { id: string; scopes: string[] | null; allowed_ips: string[] | null }; secret: string }>(
      'keys', 'create', '--org', org, '--app', app.id, '--name', 'reader', '--scope', 'agents:view', '--allow-ip', '203.0.113.8/29',
    );
    expect(key.key).toMatchObject({ scopes: ['agents:view'], allowed_ips: ['203.0.113.8/29'] });
    expect((await api(acmeToken).get(`/v1/keys/${key.key.id}`).expect(200)).body).toEqual(key.key);
    const human = await run('keys', 'create', '--org', org, '--app', app.id, '--name', 'writer', '--scope', 'tools:deploy', '--allow-ip', '198.51.100.7');
    expect(human.stdout).toMatch(/\n {2}scopes +tools:deploy \(within its app's\)\n {2}allowed IPs +198\.51\.100\.7 \(and its app's list\)\n/);

    const narrowed = await run('apps', 'update', app.id, '--org', org, '--allow-ip', '2001:db8::/32');
    expect(narrowed.stdout).toMatch(/allowed IPs +2001:db8::\/32\n/);
    const cleared = await json<{ allowed_ips: string[] | null }>('apps', 'update', app.id, '--org', org, '--allow-any-ip');
    expect(cleared.allowed_ips).toBeNull();
    expect((await run('apps', 'update', app.id, '--org', org, '--name', 'fenced')).stdout).toMatch(/allowed IPs +any address\n/);
  });

  it('lists stale keys: active keys unused for the given days, 90 by default', async () => {
    const org = acme.org.id;
    // A key created 100 days ago and never used, and one used 40 days ago.
    ctx.clock.set(Date.now() - 100 * DAY);
    const idle = await ctx.createKey(org, appId, { name: 'forgotten' });
    const used = await ctx.createKey(org, appId, { name: 'monthly' });
    await ctx.db.updateTable('api_keys').set({ last_used_at: Date.now() - 40 * DAY, use_count: 3 }).where('id', '=', used.key.id).execute();
    ctx.clock.set(Date.now());

    const stale = await json<{ data: { id: string }[] }>('keys', 'stale', '--org', org);
    expect(stale.data.map((k) => k.id)).toEqual([idle.key.id]);
    expect(stale).toEqual((await api(acmeToken).get('/v1/keys?status=active&unused_days=90').expect(200)).body);
    const thirty = await run('keys', 'stale', '--org', org, '--unused-days', '30');
    expect(thirty.stdout).toMatch(new RegExp(`${used.key.id} +${appId} +monthly +active +…\\w{4} +40 days ago +3 +never +3 months ago`));
    expect(thirty.stdout).toMatch(new RegExp(`${idle.key.id} +${appId} +forgotten +active +…\\w{4} +never +0 +never +3 months ago`));
    expect(thirty.stdout).toContain(`Revoke one with: scope-auth keys revoke <key_id> --org ${org} --reason "unused for 30 days"`);
    const none = await run('keys', 'stale', '--org', org, '--unused-days', '365');
    expect(none.stdout).toBe('No active key has gone unused for 365 days.\n');
  });

  it('shows the audit log with the CLI as actor, as GET /v1/audit does', async () => {
    const org = acme.org.id;
    const events = await json<{ data: { actor: string; action: string }[] }>('audit', '--org', org, '--limit', '200');
    expect(events).toEqual((await api(acmeToken).get('/v1/audit?limit=200').expect(200)).body);
    const mine = events.data.filter((e) => e.action !== 'token.refused');
    expect(new Set(mine.map((e) => e.actor))).toEqual(new Set(['cli']));
    expect(new Set(mine.map((e) => e.action))).toEqual(
      new Set(['org.created', 'org.updated', 'org.disabled', 'org.enabled', 'app.created', 'app.updated', 'app.deleted', 'key.created', 'key.revoked', 'key.rolled', 'key.deleted']),
    );
    const revocations = await json('audit', '--org', org, '--action', 'key.revoked');
    expect(revocations).toEqual((await api(acmeToken).get('/v1/audit?action=key.revoked').expect(200)).body);

    const table = await run('audit', '--org', org, '--action', 'key.revoked', '--limit', '1');
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WHEN +ACTOR +ACTION +TARGET +IP +DETAILS$/);
    expect(lines[1]).toMatch(recent(String.raw`^RECENT +cli +key\.revoked +key_\w+ +app_id=app_\w+ name=laptop reason=left on a train$`));
    expect(lines[2]).toBeUndefined();
    const page = await run('audit', '--org', org, '--action', 'key.created', '--limit', '2');
    expect(page.stdout.trimEnd().split('\n')[3]).toMatch(/^More: scope-auth audit --org org_\w+ --action key\.created --limit 2 --cursor \S+$/);
    // The root org's log records that the CLI created Acme there too.
    const rootLog = await json<{ data: { action: string; target_id: string; actor: string }[] }>('audit', '--org', ctx.root.org.id, '--action', 'org.created');
    expect(rootLog.data.map((e) => [e.target_id, e.actor])).toContainEqual([acme.org.id, 'cli']);
  });

  it('lists the scope catalogue as GET /v1/scopes does', async () => {
    expect(await json('scopes')).toEqual((await api(rootToken).get('/v1/scopes').expect(200)).body);
    const table = await run('scopes');
    expect(table.stdout).toMatch(/^SCOPE +DESCRIPTION +IMPLIES\n/);
    expect(table.stdout).toMatch(/\nagents:edit +agents:view\n/);
    expect(table.stdout).toMatch(/\nruntime:run +Execute a run +sessions:create\n/);
    expect(table.stdout).toMatch(/\nAUDIENCE +DESCRIPTION\nhttps:\/\/api\.example\.com +The main API\nhttps:\/\/billing\.example\.com +Billing\nhttp:\/\/scope-auth\.test +\(the default, SCOPE_AUTH_AUDIENCE\)\n$/);
  });
});
