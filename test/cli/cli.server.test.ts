// What the CLI does to a server running on the same database: a revocation applies to the
// next exchange, a signing-key rotation within the keyring's 5-second refresh (SQLite: no change feed). And `serve`
// itself, through the real bin.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { buildCli, type Cli } from '../helpers/cli.js';
import { TEST_ENV } from '../helpers/context.js';
import { freePort } from '../helpers/server.js';
import { captureServerOutput, testLogger } from '../helpers/test-logger.js';

/** The keyring re-reads signing keys every 5 s; allow for a loaded machine on top. */
const NOTICE_WITHIN_MS = 5_000;
const SLACK_MS = 2_500;

interface SigningKeyJson {
  kid: string;
  state: string;
  generation: number;
  created_at: string;
  activates_at: string | null;
  retires_at: string | null;
  unpublishes_at: string | null;
}

interface RotationJson {
  activated: SigningKeyJson;
  standby: SigningKeyJson;
  previous: SigningKeyJson | null;
  discarded_standby: string | null;
}

describe('the CLI and a server running on the same database', () => {
  let cli: Cli;
  let dir: string;
  let server: RunningServer;
  let url: string;
  let env: Record<string, string>;
  let orgId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scope-auth-cli-server-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = {
      SCOPE_AUTH_DATABASE_URL: `sqlite:${join(dir, 'scope-auth.sqlite')}`,
      SCOPE_AUTH_KEYS_DIR: join(dir, 'keys'),
      SCOPE_AUTH_ISSUER: url,
      SCOPE_AUTH_PORT: String(port),
    };
    [cli, server] = await Promise.all([buildCli(env), startServer(loadConfig({ ...TEST_ENV, ...env }), { logger: testLogger() })]);
    orgId = server.bootstrap!.org.id;
  });
  afterAll(async () => {
    cli?.remove();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function exchange(credentials: { keyId: string; secret: string }) {
    const res = await fetch(`${url}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ org_id: orgId, key_id: credentials.keyId, secret: credentials.secret }),
    });
    return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string } };
  }
  const jwksKids = async () => ((await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
  const tokenKid = async (credentials: { keyId: string; secret: string }) => decodeProtectedHeader((await exchange(credentials)).body.access_token!).kid;

  /** Polls until `check` holds; fails after `ms`. Real time: the other process is real. */
  async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
    const start = Date.now();
    while (!(await check())) {
      if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('refuses the next exchange of a key revoked with the CLI', async () => {
    const app = await cli.json<{ id: string }>(['apps', 'create', '--org', orgId, '--name', 'worker', '--scope', 'runtime:run']);
    const created = await cli.json<{ key: { id: string }; secret: string }>(['keys', 'create', '--org', orgId, '--app', app.id, '--name', 'worker-1']);
    const credentials = { keyId: created.key.id, secret: created.secret };
    // Twice, so the server's verified-credential cache holds it.
    expect((await exchange(credentials)).status).toBe(200);
    expect((await exchange(credentials)).status).toBe(200);

    const revoked = await cli.run(['keys', 'revoke', created.key.id, '--org', orgId, '--reason', 'compromised']);
    expect(revoked.code).toBe(0);
    expect(await exchange(credentials)).toEqual({ status: 401, body: expect.objectContaining({ error: 'invalid_client' }) });
  });

  it('lists the signing key and its standby, and a rotation with --now makes the standby sign the running server\'s tokens within 5 seconds', async () => {
    const client = { keyId: server.bootstrap!.key.id, secret: server.bootstrap!.secret };
    const before = await cli.json<{ data: SigningKeyJson[] }>(['signing-keys', 'list']);
    expect(before.data.map((k) => [k.generation, k.state, k.retires_at, k.unpublishes_at])).toEqual([
      [1, 'active', null, null],
      [2, 'standby', null, null],
    ]);
    expect(before.data[1]!.activates_at).toBeNull();
    const [active, standby] = before.data as [SigningKeyJson, SigningKeyJson];
    expect(await tokenKid(client)).toBe(active.kid);
    expect((await jwksKids()).sort()).toEqual([active.kid, standby.kid].sort());

    const human = await cli.run(['signing-keys', 'list']);
    expect(human.stdout).toMatch(
      new RegExp(
        `^KID +ALG +GEN +STATE +CREATED +SIGNS FROM +RETIRES +LEAVES JWKS\\n${standby.kid} +ES256 +2 +standby .* +next rotation +- +-\\n${active.kid} +ES256 +1 +active .* +- +-\\n$`,
      ),
    );

    const result = await cli.run(['signing-keys', 'rotate', '--now']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^Signing key ${standby.kid} \\(ES256, generation 2\\) signs from now on; it has been in the JWKS since \\S+ \\(.+\\)\\.$`));
    expect(lines[1]).toMatch(
      new RegExp(`^The key signing until now, ${active.kid}, stops now; it stays in the JWKS until \\S+ \\(in 1 hour\\), when every token it signed has expired\\.$`),
    );
    const next = /^New standby key (\S+) \(generation 3\) is in the JWKS now; the next rotation makes it sign\.$/.exec(lines[2]!)?.[1];
    expect(next).toBeDefined();
    expect(lines[3]).toBe('Servers on this database learn of it within 5 seconds.');
    // The server started moments ago, and with it the standby.
    expect(lines[4]).toMatch(/^It has been published for less than the JWKS max-age \(300 s\): verifiers holding an older cached JWKS accept its tokens once they refetch/);
    await within(NOTICE_WITHIN_MS + SLACK_MS, async () => (await tokenKid(client)) === standby.kid);
    // Every key is published: tokens the old one signed are still valid.
    expect((await jwksKids()).sort()).toEqual([active.kid, standby.kid, next!].sort());

    const after = await cli.json<{ data: SigningKeyJson[] }>(['signing-keys', 'list']);
    expect(after.data.map((k) => [k.kid, k.generation, k.state])).toEqual([
      [active.kid, 1, 'retired'],
      [standby.kid, 2, 'active'],
      [next, 3, 'standby'],
    ]);
    expect(after.data[0]!.retires_at).toBe(after.data[1]!.activates_at);
    // Retired keys leave the JWKS once every token they signed has expired (TTL max 3600 s + 60 s leeway).
    expect(Date.parse(after.data[0]!.unpublishes_at!) - Date.parse(after.data[1]!.activates_at!)).toBe(3_660_000);
  });

  it('makes a standby younger than the JWKS max-age sign only once it is that old, without --now', async () => {
    const client = { keyId: server.bootstrap!.key.id, secret: server.bootstrap!.secret };
    const signing = await tokenKid(client);
    const rotation = await cli.json<RotationJson>(['signing-keys', 'rotate']);
    expect(Object.keys(rotation).sort()).toEqual(['activated', 'discarded_standby', 'previous', 'standby']);
    expect(Object.keys(rotation.activated).sort()).toEqual(['activates_at', 'alg', 'created_at', 'generation', 'kid', 'retires_at', 'state', 'unpublishes_at']);
    expect(rotation.activated).toMatchObject({ alg: 'ES256', generation: 3, state: 'pending', retires_at: null, unpublishes_at: null });
    expect(rotation.previous).toMatchObject({ kid: signing, state: 'active', retires_at: rotation.activated.activates_at });
    expect(rotation.standby).toMatchObject({ generation: 4, state: 'standby', activates_at: null });
    expect(rotation.discarded_standby).toBeNull();
    // The standby was created by the previous rotation, moments ago: it signs 300 s after that.
    expect(Date.parse(rotation.activated.activates_at!) - Date.parse(rotation.activated.created_at)).toBe(300_000);

    await within(NOTICE_WITHIN_MS + SLACK_MS, async () => (await jwksKids()).includes(rotation.standby.kid));
    expect(await tokenKid(client)).toBe(signing);
    const listed = await cli.json<{ data: SigningKeyJson[] }>(['signing-keys', 'list']);
    expect(listed.data.find((k) => k.kid === rotation.activated.kid)).toEqual(rotation.activated);
  });

  it('with --now --replace-standby discards the standby and signs with a fresh key at once, and says what downstream caches must do', async () => {
    const client = { keyId: server.bootstrap!.key.id, secret: server.bootstrap!.secret };
    const before = await cli.json<{ data: SigningKeyJson[] }>(['signing-keys', 'list']);
    const standby = before.data.find((k) => k.state === 'standby')!;

    const result = await cli.run(['signing-keys', 'rotate', '--now', '--replace-standby']);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`Discarded the standby key ${standby.kid}: it never signed, and it has left the JWKS.`);
    const fresh = /^Created signing key (\S+) \(ES256, generation 5\); it is in the JWKS now and signs from now on\.$/.exec(lines[1]!)?.[1];
    expect(fresh).toBeDefined();
    expect(lines[2]).toMatch(/^The key signing until now, \S+, stops now; it stays in the JWKS until /);
    expect(lines[3]).toMatch(/^New standby key \S+ \(generation 6\) is in the JWKS now; the next rotation makes it sign\.$/);
    expect(lines[5]).toBe(
      `Downstream verifiers have never seen ${fresh} and must refetch the JWKS to accept its tokens: the scope-auth SDK verifier and jose's createRemoteJWKSet refetch when they meet an unknown kid (at most once per cooldown, 30 s by default); verifiers that refetch only when their cached copy expires reject its tokens for up to 300 s.`,
    );

    await within(NOTICE_WITHIN_MS + SLACK_MS, async () => (await tokenKid(client)) === fresh);
    expect(await jwksKids()).not.toContain(standby.kid);
    const after = await cli.json<{ data: SigningKeyJson[] }>(['signing-keys', 'list']);
    expect(after.data.map((k) => k.kid)).not.toContain(standby.kid);
    expect(after.data.filter((k) => k.state === 'active').map((k) => k.kid)).toEqual([fresh]);
  });

  it('refuses --replace-standby without --now', async () => {
    const result = await cli.run(['signing-keys', 'rotate', '--replace-standby']);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe('scope-auth: --replace-standby needs --now: it makes a key nobody has fetched sign at once\n');
  });

  it('serves through the bin: writes the first-start credentials to a file, not to its output, and drains on SIGTERM', async () => {
    const serveDir = mkdtempSync(join(tmpdir(), 'scope-auth-cli-serve-'));
    const port = await freePort();
    const child = spawn(process.execPath, [cli.bin, 'serve', '--json'], {
      env: {
        PATH: process.env.PATH ?? '',
        ...(TEST_ENV as Record<string, string>),
        SCOPE_AUTH_DATABASE_URL: `sqlite:${join(serveDir, 'db.sqlite')}`,
        SCOPE_AUTH_KEYS_DIR: join(serveDir, 'keys'),
        SCOPE_AUTH_PORT: String(port),
      },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    captureServerOutput(child.stdout, 'cli-serve');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const ready = async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
      await within(20_000, ready);
      // --json shapes what a terminal is shown; a pipe is no terminal, so the file has them.
      const file = join(serveDir, 'keys/root-credentials.env');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const secret = /^SCOPE_API_SECRET=(\S+)$/m.exec(readFileSync(file, 'utf8'))?.[1];
      expect(secret).toMatch(/^secret_[0-9A-Za-z]{46}$/);
      expect(output).not.toContain(secret!);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(serveDir, { recursive: true, force: true });
    }
  });
});
