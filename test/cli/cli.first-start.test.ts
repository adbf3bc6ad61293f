// The first start's credentials go to a person or to a file, never into the log stream:
// `serve` prints them on a terminal and writes <SCOPE_AUTH_KEYS_DIR>/root-credentials.env
// anywhere else; `init` does the first start without serving, through the real bin.
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run, type CliIo } from '../../src/cli/index.js';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { buildCli, type Cli } from '../helpers/cli.js';
import { TEST_ENV } from '../helpers/context.js';

const ISSUER = 'https://auth.example.com';
const SECRET = /secret_[0-9A-Za-z]{46}/;
const OWNER_LINK = /^https:\/\/auth\.example\.com\/console\/invitations\/[A-Za-z0-9_-]{43}$/;

/** The variables of a credentials file, and its mode. */
function readCredentials(path: string) {
  const variables = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  return { mode: statSync(path).mode & 0o777, names: variables.map(([name]) => name), values: Object.fromEntries(variables) };
}

describe('the first start from the command line', () => {
  let cli: Cli;
  const dirs: string[] = [];
  beforeAll(async () => {
    cli = await buildCli();
  });
  afterAll(() => cli?.remove());
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'scope-auth-first-start-'));
    dirs.push(dir);
    const env = { SCOPE_AUTH_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, SCOPE_AUTH_KEYS_DIR: join(dir, 'keys'), SCOPE_AUTH_ISSUER: ISSUER };
    return { dir, env, file: join(dir, 'keys/root-credentials.env') };
  }

  /** `serve` in this process, stopped as soon as it has started. */
  async function serveOnce(env: Record<string, string>, isTTY: boolean) {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: { ...TEST_ENV, ...env, SCOPE_AUTH_PORT: '0' },
      isTTY,
      untilStopped: async () => 'test',
    };
    const code = await run(['serve'], io);
    return { code, stdout, stderr };
  }

  it('init migrates, creates the keys and the root organization, and writes its admin key to a 0600 file, printing no secret', async () => {
    const { dir, env, file } = fresh();
    const result = await cli.run(['init'], env);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const credentials = readCredentials(file);
    expect(credentials.mode).toBe(0o600);
    expect(credentials.names).toEqual(['SCOPE_ORG_ID', 'SCOPE_API_KEY', 'SCOPE_API_SECRET', 'SCOPE_AUTH_API_URL', 'SCOPE_AUTH_OWNER_INVITATION_URL']);
    expect(credentials.values.SCOPE_API_SECRET).toMatch(SECRET);
    expect(credentials.values.SCOPE_AUTH_API_URL).toBe(ISSUER);
    expect(credentials.values.SCOPE_AUTH_OWNER_INVITATION_URL).toMatch(OWNER_LINK);
    expect(result.stdout).not.toMatch(SECRET);
    expect(result.stdout.split('\n')[0]).toBe(
      `Initialized sqlite:${join(dir, 'db.sqlite')}: created the root organization ${credentials.values.SCOPE_ORG_ID} and its admin key ${credentials.values.SCOPE_API_KEY}.`,
    );
    expect(result.stdout).toContain(`The key is in ${file} (mode 0600)`);
    expect(statSync(join(dir, 'keys/kek')).mode & 0o777).toBe(0o600);
    const signing = await cli.json<{ data: { state: string }[] }>(['signing-keys', 'list'], env);
    expect(signing.data.map((key) => key.state).sort()).toEqual(['active', 'standby']);

    // A server started on it afterwards bootstraps nothing, and exchanges the written key.
    const server = await startServer(loadConfig({ ...TEST_ENV, ...env, SCOPE_AUTH_PORT: '0' }), { logger: pino({ level: 'silent' }) });
    try {
      expect(server.bootstrap).toBeNull();
      const res = await fetch(`${server.url}/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ org_id: credentials.values.SCOPE_ORG_ID, key_id: credentials.values.SCOPE_API_KEY, secret: credentials.values.SCOPE_API_SECRET }),
      });
      expect(res.status).toBe(200);
      // The first owner's link creates the root org's first owner, once.
      const token = credentials.values.SCOPE_AUTH_OWNER_INVITATION_URL!.split('/').pop()!;
      const accept = () =>
        fetch(`${server.url}/v1/invitations/${token}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'First Owner', email: 'owner@example.com', password: 'correct horse battery staple' }),
        });
      const accepted = await accept();
      expect(accepted.status).toBe(201);
      expect(((await accepted.json()) as { user: { role: string } }).user.role).toBe('owner');
      expect((await accept()).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('init refuses a database that already has its root organization, exiting 1 and creating nothing', async () => {
    const { env, file } = fresh();
    expect((await cli.run(['init'], env)).code).toBe(0);
    const before = readFileSync(file, 'utf8');
    const again = await cli.run(['init'], env);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toMatch(/^scope-auth: sqlite:\S+ is already initialized: it has its root organization, so no credentials were created .*\n$/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const orgs = await cli.json<{ data: unknown[] }>(['orgs', 'list'], env);
    expect(orgs.data).toHaveLength(1);
  });

  it('init --json prints the credentials as POST /v1/orgs answers them, and writes no file', async () => {
    const { env, file } = fresh();
    const created = await cli.json<{ org: { id: string; is_root: boolean }; admin_app: { name: string }; key: { id: string }; secret: string }>(['init'], env);
    expect(Object.keys(created).sort()).toEqual(['admin_app', 'key', 'org', 'owner_invitation_url', 'secret']);
    expect((created as unknown as { owner_invitation_url: string }).owner_invitation_url).toMatch(OWNER_LINK);
    expect(created.org.is_root).toBe(true);
    expect(created.admin_app.name).toBe('admin');
    expect(created.secret).toMatch(SECRET);
    expect(existsSync(file)).toBe(false);
  });

  it('serve prints the block with the API URL on a terminal, and writes no file', async () => {
    const { env, file } = fresh();
    const result = await serveOnce(env, true);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^={72}\nscope-auth: first start\./);
    expect(result.stdout).toMatch(
      new RegExp(`\\n {2}SCOPE_ORG_ID=org_\\S+\\n {2}SCOPE_API_KEY=key_\\S+\\n {2}SCOPE_API_SECRET=${SECRET.source}\\n {2}SCOPE_AUTH_API_URL=${ISSUER}\\n {2}SCOPE_AUTH_OWNER_INVITATION_URL=${OWNER_LINK.source.slice(1, -1)}\\n={72}\\n$`),
    );
    expect(existsSync(file)).toBe(false);
  });

  it('serve anywhere else writes the file and prints nothing, with --json too', async () => {
    const { env, file } = fresh();
    const result = await serveOnce(env, false);
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readCredentials(file).mode).toBe(0o600);
    expect(readCredentials(file).values.SCOPE_API_SECRET).toMatch(SECRET);

    const other = fresh();
    let stdout = '';
    const code = await run(['serve', '--json'], {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: () => true },
      env: { ...TEST_ENV, ...other.env, SCOPE_AUTH_PORT: '0' },
      isTTY: false,
      untilStopped: async () => 'test',
    });
    expect({ code, stdout }).toEqual({ code: 0, stdout: '' });
    expect(readCredentials(other.file).values.SCOPE_API_SECRET).toMatch(SECRET);
  });

  it('serve fails to start, naming the file and how to get an admin key, when it cannot write the file', async () => {
    const { dir, env } = fresh();
    // The keys directory is a file: nothing can be written inside it.
    const blocked = { ...env, SCOPE_AUTH_KEYS_DIR: join(dir, 'db.sqlite'), SCOPE_AUTH_KEK: Buffer.alloc(32, 7).toString('base64') };
    const result = await serveOnce(blocked, false);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^scope-auth: cannot write the first-start credentials to \S+root-credentials\.env: .+ The root organization org_\S+ was created; make a new admin key for it with "scope-auth keys create --org org_\S+ --app app_\S+ --name admin"\n$/,
    );
    expect(result.stderr).not.toMatch(SECRET);
  });
});
