// How the CLI fails: one line on stderr naming the problem, nothing on stdout, exit 2 when
// the command line is wrong and 1 when the command cannot be done, and nothing changed.
// Also --help on every command, and colour only on a terminal.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, run, type CliIo } from '../../src/cli/index.js';
import { describeDatabase } from '../../src/cli/context.js';
import { orgSnapshot } from '../helpers/admin.js';
import { buildCli, databaseUrlFor, ROOT, type Cli, type CliResult } from '../helpers/cli.js';
import { createTestContext, TEST_ENV, type TestContext } from '../helpers/context.js';

const NO_ORG = 'org_01J00000000000000000000000';
const NO_KEY = 'key_01J00000000000000000000000';

/** Exactly one line on stderr, starting "scope-auth: ", and nothing on stdout. */
function expectOneLineError(result: CliResult, code: 1 | 2, message: string | RegExp) {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code, stdout: '' });
  expect(result.stderr).toMatch(/^scope-auth: [^\n]+\n$/);
  if (typeof message === 'string') expect(result.stderr).toContain(message);
  else expect(result.stderr).toMatch(message);
}

/** An in-process io that records what the CLI writes. */
function captureIo(env: Record<string, string>, isTTY = false) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { ...TEST_ENV, ...env },
    isTTY,
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
}

describe('the scope-auth CLI when something is wrong', () => {
  let cli: Cli;
  let ctx: TestContext;
  let env: Record<string, string>;
  let dir: string;
  let orgId: string;
  let appId: string;
  let revokedKeyId: string;
  let limitedOrgId: string;

  beforeAll(async () => {
    [cli, ctx] = await Promise.all([buildCli(), createTestContext({ dialect: 'sqlite' })]);
    env = { SCOPE_AUTH_DATABASE_URL: databaseUrlFor(ctx.database) };
    dir = mkdtempSync(join(tmpdir(), 'scope-auth-cli-error-'));
    const org = await ctx.createOrg('acme');
    orgId = org.org.id;
    appId = (await ctx.createApp(orgId, ['agents:view'])).id;
    const revoked = await ctx.createKey(orgId, appId);
    await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now(), revoked_by: 'cli' }).where('id', '=', revoked.key.id).execute();
    revokedKeyId = revoked.key.id;
    limitedOrgId = (await ctx.createOrg('limited')).org.id;
    await ctx.db.updateTable('orgs').set({ allowed_scopes: JSON.stringify(['agents:view']) }).where('id', '=', limitedOrgId).execute();
  });
  afterAll(async () => {
    cli?.remove();
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run2 = (...args: string[]) => cli.run(args, env);

  it('answers a wrong command line with exit 2 and one line naming the problem, changing nothing', async () => {
    const before = await orgSnapshot(ctx, orgId);
    const cases: [string[], string | RegExp][] = [
      [['bogus'], "unknown command 'bogus'"],
      [['keys', 'lsit', '--org', orgId], "unknown command 'lsit' (Did you mean list?)"],
      [['keys', 'create', '--org', orgId, '--app', appId], "required option '--name <name>' not specified"],
      [['keys', 'create', '--org', orgId, '--app', appId, '--name', 'x', '--nme', 'y'], "unknown option '--nme'"],
      [['apps', 'list', '--org', orgId, '--limit', '500'], "option '--limit <n>' argument '500' is invalid. expected a whole number from 1 to 200"],
      [['keys', 'revoke', 'abc', '--org', orgId], "value 'abc' is invalid for argument 'key_id'. expected a key id (key_…)"],
      [['apps', 'list', '--org', 'acme'], "argument 'acme' is invalid. expected an org id (org_…)"],
      [['keys', 'list', '--org', orgId, '--status', 'dead'], "Allowed choices are active, revoked, expired"],
      [['keys', 'roll', revokedKeyId, '--org', orgId, '--grace', 'a while'], 'expected a duration from 0 to 2592000 seconds, such as 3600, 90m, 24h or 7d'],
      [['keys', 'create', '--org', orgId, '--app', appId, '--name', 'x', '--expires-at', 'tomorrow'], 'expected an ISO 8601 date or time'],
      [
        ['keys', 'create', '--org', orgId, '--app', appId, '--name', 'x', '--expires-at', '2030-01-01', '--expires-in-days', '3'],
        "option '--expires-at <time>' cannot be used with option '--expires-in-days <days>'",
      ],
      [['keys', 'create', '--org', orgId, '--app', appId, '--name', 'x', '--expires-at', '2001-01-01'], 'scope-auth: --expires-at/--expires-in-days: must be in the future'],
      [['apps', 'update', appId, '--org', orgId], 'nothing to change: give at least one of --name, --scope'],
      [['apps', 'create', '--org', orgId, '--name', 'x', '--scope', 'agents:view', '--allow-ip', '10.0.0.0/33'], 'scope-auth: --allow-ip: "10.0.0.0/33" has a prefix length outside 0–32'],
      [['apps', 'update', appId, '--org', orgId, '--allow-ip', '10.0.0.0/8', '--allow-any-ip'], "option '--allow-ip <cidr>' cannot be used with option '--allow-any-ip'"],
      [['keys', 'create', '--org', orgId, '--app', appId, '--name', 'x', '--scope', 'tools:deploy'], 'scope-auth: --scope: the app does not grant tools:deploy (it grants agents:view)'],
      [['keys', 'create', '--org', orgId, '--app', appId, '--name', 'x', '--allow-ip', 'localhost'], 'scope-auth: --allow-ip: "localhost" is not an IP address'],
      [['apps', 'create', '--org', orgId, '--name', 'x', '--scope', 'agents:view', '--audience', 'https://api-a.example'], 'scope-auth: --audience: "https://api-a.example" is not an audience of this server; expected one of "http://scope-auth.test"'],
      [['apps', 'create', '--org', limitedOrgId, '--name', 'x', '--scope', 'runtime:run'], "scope-auth: --scope: runtime:run is outside this organization's allowance (agents:view)"],
      [['orgs', 'update', orgId], 'nothing to change: give at least one of --name, --allow-scope, --allow-all-scopes, --allow-no-scopes, --require-mfa, --no-require-mfa, --auto-revoke-unused-days, --no-auto-revoke-unused-days'],
      [['orgs', 'update', orgId, '--auto-revoke-unused-days', '0'], "option '--auto-revoke-unused-days <days>' argument '0' is invalid. expected a whole number from 1 to 36500"],
      [['orgs', 'create', 'x', '--auto-revoke-unused-days', 'soon'], "option '--auto-revoke-unused-days <days>' argument 'soon' is invalid. expected a whole number from 1 to 36500"],
      [['orgs', 'update', orgId, '--allow-scope', 'agents:veiw'], 'scope-auth: unknown scope "agents:veiw" (did you mean "agents:view"?); "scope-auth scopes" lists the catalogue'],
      [['orgs', 'update', orgId, '--allow-scope', 'admin.apps:full'], 'scope-auth: --allow-scope: admin.apps:full is built in and outside allowances'],
      [['orgs', 'update', orgId, '--allow-all-scopes', '--allow-scope', 'agents:view'], "option '--allow-all-scopes' cannot be used with option '--allow-scope <scope>'"],
      [['orgs', 'disable', 'acme'], "value 'acme' is invalid for argument 'org_id'. expected an org id (org_…)"],
      [['apps', 'create', '--org', orgId, '--name', ' ', '--scope', 'agents:view'], 'scope-auth: --name: expected 1 to 100 characters'],
      [['apps', 'create', '--org', orgId, '--name', 'x', '--scope', 'agents:view', '--ttl', '30'], 'scope-auth: --ttl: expected a whole number from 60 to 3600'],
      [
        ['apps', 'create', '--org', orgId, '--name', 'x', '--scope', 'agents:veiw', '--scope', 'tools:deplyo', '--scope', 'zzz'],
        'scope-auth: unknown scopes "agents:veiw" (did you mean "agents:view"?), "tools:deplyo" (did you mean "tools:deploy"?), "zzz"; "scope-auth scopes" lists the catalogue\n',
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => run2(...args)));
    results.forEach((result, i) => expectOneLineError(result, 2, cases[i]![1]));
    expect(await orgSnapshot(ctx, orgId)).toEqual(before);

    // A group without its subcommand shows its help on stderr, as a usage error.
    const group = await run2('keys');
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('Usage: scope-auth keys [options] [command]');
    expect(group.stderr).toMatch(/\n {2}revoke \[options\] <key_id> +Revoke a key/);
  });

  it('answers a command that cannot be done with exit 1 and one line saying why and what to do', async () => {
    const other = await ctx.createOrg('globex');
    const missingFile = join(dir, 'nothing-here.sqlite');
    const emptyKeys = join(dir, 'keys');
    const cases: [string[], Record<string, string>, string | RegExp][] = [
      [['apps', 'list', '--org', NO_ORG], {}, `scope-auth: no organization ${NO_ORG} ("scope-auth orgs list" shows them)`],
      [['keys', 'revoke', NO_KEY, '--org', orgId], {}, `scope-auth: no key ${NO_KEY} in this organization`],
      // Tenant isolation: an app of another org is not there.
      [['keys', 'create', '--org', other.org.id, '--app', appId, '--name', 'x'], {}, `scope-auth: no app ${appId} in this organization`],
      [['keys', 'roll', revokedKeyId, '--org', orgId, '--grace', '1h'], {}, `scope-auth: key ${revokedKeyId} is revoked; create a new key instead of rolling it`],
      [['apps', 'create', '--org', orgId, '--name', 'x', '--scope', 'admin.orgs:full'], {}, 'admin.orgs:full can be granted only to apps of the root organization'],
      [['orgs', 'show', NO_ORG], {}, `scope-auth: no organization ${NO_ORG}`],
      [['orgs', 'delete', NO_ORG], {}, `scope-auth: no organization ${NO_ORG}`],
      [['orgs', 'disable', ctx.root.org.id], {}, 'scope-auth: the root organization cannot be disabled'],
      [['orgs', 'delete', ctx.root.org.id], {}, 'scope-auth: the root organization cannot be deleted'],
      [['orgs', 'create', 'x'], { SCOPE_AUTH_ORG_DEFAULT_SCOPES: 'agents:veiw' }, 'scope-auth: SCOPE_AUTH_ORG_DEFAULT_SCOPES="agents:veiw" is invalid: the scope catalogue has no agents:veiw'],
      [['apps', 'list', '--org', orgId], { SCOPE_AUTH_TOKEN_TTL: 'soon' }, 'scope-auth: SCOPE_AUTH_TOKEN_TTL="soon" is invalid: expected a whole number from 60 to 86400'],
      [
        ['orgs', 'list'],
        { SCOPE_AUTH_DATABASE_URL: `sqlite:${missingFile}` },
        `scope-auth: no SQLite database at ${missingFile} (SCOPE_AUTH_DATABASE_URL=sqlite:${missingFile}): run "scope-auth migrate" or start the server first`,
      ],
      [
        ['orgs', 'list'],
        { SCOPE_AUTH_DATABASE_URL: 'postgres://operator:hunter2@127.0.0.1:1/scope_auth' },
        /^scope-auth: cannot reach the database postgres:\/\/operator@127\.0\.0\.1:1\/scope_auth: .*ECONNREFUSED/,
      ],
      [['signing-keys', 'list'], { SCOPE_AUTH_KEYS_DIR: emptyKeys }, `scope-auth: no key-encryption key: SCOPE_AUTH_KEK is not set and ${emptyKeys}/kek does not exist`],
      [['signing-keys', 'rotate'], { SCOPE_AUTH_KEK: randomBytes(32).toString('base64') }, /^scope-auth: cannot decrypt signing key \S+: the key-encryption key .* is not the one it was encrypted with/],
    ];
    const before = await orgSnapshot(ctx, orgId);
    const rootBefore = await orgSnapshot(ctx, ctx.root.org.id);
    const orgsBefore = await ctx.db.selectFrom('orgs').selectAll().orderBy('id').execute();
    const keysBefore = await ctx.db.selectFrom('signing_keys').select('kid').execute();
    const results = await Promise.all(cases.map(([args, extra]) => cli.run(args, { ...env, ...extra })));
    results.forEach((result, i) => expectOneLineError(result, 1, cases[i]![2]));
    expect(results.find((r) => r.stderr.includes('postgres://'))!.stderr).not.toContain('hunter2');
    expect(await orgSnapshot(ctx, orgId)).toEqual(before);
    expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(rootBefore);
    expect(await ctx.db.selectFrom('orgs').selectAll().orderBy('id').execute()).toEqual(orgsBefore);
    expect(await ctx.db.selectFrom('signing_keys').select('kid').execute()).toEqual(keysBefore);
    // The CLI neither leaves an empty database behind nor makes up a key-encryption key.
    expect(existsSync(missingFile)).toBe(false);
    expect(existsSync(emptyKeys)).toBe(false);
  });

  it('never shows a database password in a message', () => {
    expect(describeDatabase('postgres://operator:hunter2@db.internal:5432/scope_auth?sslmode=require')).toBe(
      'postgres://operator@db.internal:5432/scope_auth?sslmode=require',
    );
    expect(describeDatabase('sqlite:db/scope-auth.sqlite')).toBe('sqlite:db/scope-auth.sqlite');
  });

  it('prints --help with an example for every command, and the version', async () => {
    const leaves: string[][] = [];
    const walk = (command: Command, path: string[]) => {
      for (const sub of command.commands) {
        if (sub.name() === 'help') continue;
        if (sub.commands.length === 0) leaves.push([...path, sub.name()]);
        else walk(sub, [...path, sub.name()]);
      }
    };
    walk(buildProgram(captureIo(env).io), []);
    expect(leaves.map((p) => p.join(' ')).sort()).toEqual([
      'apps create', 'apps delete', 'apps list', 'apps update', 'audit', 'init', 'keys create', 'keys delete', 'keys list', 'keys report-leak', 'keys revoke', 'keys roll',
      'keys stale', 'migrate', 'orgs create', 'orgs delete', 'orgs disable', 'orgs enable', 'orgs list', 'orgs show', 'orgs update', 'scopes', 'serve',
      'signing-keys list', 'signing-keys rotate', 'users delete', 'users disable', 'users enable', 'users invite', 'users list', 'users reset-mfa', 'users reset-password',
      'webhooks create', 'webhooks delete', 'webhooks deliveries', 'webhooks list', 'webhooks rotate-secret', 'webhooks show', 'webhooks update',
    ]);
    for (const path of leaves) {
      const captured = captureIo(env);
      expect(await run([...path, '--help'], captured.io), path.join(' ')).toBe(0);
      const help = captured.stdout();
      expect(help).toMatch(new RegExp(`^Usage: scope-auth ${path.join(' ')} `));
      expect(help, path.join(' ')).toMatch(new RegExp(`\\nExamples?:\\n {2}\\$ (\\S+=\\S+ )*scope-auth ${path.join(' ')}( |\\n)`));
      expect(help, path.join(' ')).toContain('--json');
      expect(captured.stderr()).toBe('');
    }
    // The real bin prints the same, and the version.
    const spawned = await run2('keys', 'revoke', '--help');
    expect(spawned).toMatchObject({ code: 0, stderr: '' });
    expect(spawned.stdout).toContain('$ scope-auth keys revoke key_01J... --org org_01J... --reason "leaked in a CI log"');
    const version = await run2('--version');
    const { version: expected } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version).toEqual({ code: 0, stdout: `${expected}\n`, stderr: '' });
  });

  it('colours statuses only when stdout is a terminal and NO_COLOR is unset, and never in --json', async () => {
    const list = ['keys', 'list', '--org', orgId];
    const tty = captureIo(env, true);
    expect(await run(list, tty.io)).toBe(0);
    expect(tty.stdout()).toContain('\u001b[31mrevoked\u001b[39m');
    expect(tty.stdout()).toContain('\u001b[1mID\u001b[22m');
    // Colour codes take no width: the columns still line up.
    const plain = tty.stdout().replace(/\u001b\[\d+m/g, '');
    const header = plain.split('\n')[0]!;
    expect(plain.split('\n')[1]!.indexOf('revoked')).toBe(header.indexOf('STATUS'));

    const noColor = captureIo({ ...env, NO_COLOR: '1' }, true);
    const pipe = captureIo(env, false);
    const json = captureIo(env, true);
    await Promise.all([run(list, noColor.io), run(list, pipe.io), run([...list, '--json'], json.io)]);
    for (const output of [noColor.stdout(), pipe.stdout(), json.stdout()]) expect(output).not.toContain('\u001b[');
    expect(noColor.stdout()).toBe(plain);
  });
});
