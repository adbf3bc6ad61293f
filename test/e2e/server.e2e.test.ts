// Starts the real server the way `npm start` does (src/main.ts, as a child process, with the
// start script's Node options, which bound its heap) on an ephemeral port, reads the
// first-start credentials from the file it writes (its stdout is no terminal), exchanges,
// and verifies the token with jose's createRemoteJWKSet.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startCommand } from '../../scripts/start-command.js';
import { freePort } from '../helpers/server.js';
import { captureServerOutput } from '../helpers/test-logger.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = join(ROOT, 'src/main.ts');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

interface Started {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** The server from src/main.ts by default; `argv` replaces the entry (e.g. the built launcher). */
function start(cwd: string, env: Record<string, string>, argv: readonly string[] = ['--import', TSX, MAIN]): Started {
  const child = spawn(process.execPath, [...startCommand(ROOT).nodeOptions, ...argv], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += String(chunk)));
  captureServerOutput(child.stdout, 'e2e');
  child.stderr.on('data', (chunk) => (err += String(chunk)));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor(condition: () => boolean, what: string, started: Started, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstdout:\n${started.stdout()}\nstderr:\n${started.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The variables of `<dir>/keys/root-credentials.env`, in the order of the file. */
function credentialsFile(dir: string) {
  const path = join(dir, 'keys/root-credentials.env');
  const text = readFileSync(path, 'utf8');
  const variables = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  const values = Object.fromEntries(variables.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  return {
    path,
    mode: statSync(path).mode & 0o777,
    names: variables.map((line) => line.slice(0, line.indexOf('='))),
    orgId: values.SCOPE_ORG_ID,
    keyId: values.SCOPE_API_KEY,
    secret: values.SCOPE_API_SECRET,
    apiUrl: values.SCOPE_AUTH_API_URL,
  };
}

describe('the real server, end to end', () => {
  let dir: string;
  let port: number;
  let url: string;
  let env: Record<string, string>;
  let first: Started;
  let creds: ReturnType<typeof credentialsFile>;
  let firstKid: string | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scope-auth-e2e-'));
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = { SCOPE_AUTH_PORT: String(port), SCOPE_AUTH_ISSUER: url };
    first = start(dir, env);
    await waitFor(() => first.stdout().includes('"scope-auth listening"'), 'the server to listen', first);
    creds = credentialsFile(dir);
  });

  afterAll(async () => {
    first?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the first-start credentials to keys/root-credentials.env with mode 0600, since its stdout is no terminal', () => {
    expect(creds.mode).toBe(0o600);
    expect(creds.names).toEqual(['SCOPE_ORG_ID', 'SCOPE_API_KEY', 'SCOPE_API_SECRET', 'SCOPE_AUTH_API_URL', 'SCOPE_AUTH_OWNER_INVITATION_URL']);
    expect(creds.orgId).toMatch(/^org_[0-9A-Z]{26}$/);
    expect(creds.keyId).toMatch(/^key_[0-9A-Z]{26}$/);
    expect(creds.secret).toMatch(/^secret_[0-9A-Za-z]{46}$/);
    expect(creds.apiUrl).toBe(url);
  });

  it('logs one line naming the file, and never the secret, on stdout or stderr', () => {
    const output = first.stdout() + first.stderr();
    expect(output).not.toContain(creds.secret!);
    expect(output).not.toMatch(/secret_[0-9A-Za-z]{46}/);
    expect(output).not.toContain('SCOPE_API_SECRET');
    const named = first.stdout().split('\n').filter((line) => line.includes('root-credentials.env'));
    expect(named).toHaveLength(1);
    expect(JSON.parse(named[0]!)).toMatchObject({ file: 'keys/root-credentials.env', org_id: creds.orgId, key_id: creds.keyId });
    // Written before the server listens, so whoever waits for "listening" finds the file.
    expect(first.stdout().indexOf('root-credentials.env')).toBeLessThan(first.stdout().indexOf('"scope-auth listening"'));
  });

  it('creates the database under db/ and the key-encryption key with mode 0600', () => {
    expect(statSync(join(dir, 'db/scope-auth.sqlite')).isFile()).toBe(true);
    expect(statSync(join(dir, 'keys/kek')).mode & 0o777).toBe(0o600);
  });

  it('exchanges the bootstrap credentials for a token that verifies against the remote JWKS', async () => {
    const res = await fetch(`${url}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ org_id: creds.orgId, key_id: creds.keyId, secret: creds.secret }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; expires_in: number; scope: string };
    expect(body.expires_in).toBe(900);
    const jwks = createRemoteJWKSet(new URL(`${url}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, { issuer: url, audience: url, typ: 'at+jwt' });
    expect(payload.sub).toBe(creds.keyId);
    expect(payload.org_id).toBe(creds.orgId);
    expect(payload.scope).toBe('admin.apps:edit admin.apps:full admin.apps:view admin.audit:view admin.orgs:full admin.users:full admin.webhooks:full admin.webhooks:view tokens:introspect');
    firstKid = protectedHeader.kid;
  });

  it('drains on SIGTERM, exits 0 and has written the last-used figures', async () => {
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const db = new Database(join(dir, 'db/scope-auth.sqlite'), { readonly: true });
    const row = db.prepare('select use_count, last_used_ip from api_keys where id = ?').get(creds.keyId) as { use_count: number; last_used_ip: string };
    db.close();
    expect(row.use_count).toBe(1);
    expect(row.last_used_ip).toMatch(/127\.0\.0\.1/);
  });

  it('keeps org, key and signing key across a restart, with no second bootstrap', async () => {
    const again = start(dir, env);
    try {
      await waitFor(() => again.stdout().includes('"scope-auth listening"'), 'the restarted server to listen', again);
      expect(again.stdout()).not.toContain('root-credentials.env');
      const res = await fetch(`${url}/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ org_id: creds.orgId, key_id: creds.keyId, secret: creds.secret }),
      });
      expect(res.status).toBe(200);
      const { access_token } = (await res.json()) as { access_token: string };
      expect(decodeProtectedHeader(access_token).kid).toBe(firstKid);
    } finally {
      again.child.kill('SIGTERM');
      await again.exited;
    }
  });

  it('refuses to start on a bad configuration value, naming the variable', async () => {
    const bad = start(dir, { ...env, SCOPE_AUTH_TOKEN_TTL: 'soon' });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toContain('SCOPE_AUTH_TOKEN_TTL');
    expect(bad.stderr()).toContain('whole number');
  });

  it('retries an unreachable database for SCOPE_AUTH_DATABASE_CONNECT_TIMEOUT seconds, logging each attempt, then exits 1', async () => {
    const nowhere = await freePort();
    const started = Date.now();
    const failed = start(dir, { ...env, SCOPE_AUTH_DATABASE_URL: `postgres://postgres@127.0.0.1:${nowhere}/scope_auth`, SCOPE_AUTH_DATABASE_CONNECT_TIMEOUT: '2', SCOPE_AUTH_LOG_LEVEL: 'warn' });
    expect(await failed.exited).toBe(1);
    // It kept trying for the timeout rather than giving up at the first refusal.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(failed.stdout().match(/database unreachable; retrying/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(failed.stderr()).toMatch(/cannot start: the database is unreachable \(\d+ attempts over 2 s\)/);
  });

  it('writes the first-start credentials even when it cannot listen, since they are already stored', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'scope-auth-e2e-busy-'));
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    try {
      const busyPort = (taken.address() as AddressInfo).port;
      const failed = start(fresh, { SCOPE_AUTH_PORT: String(busyPort), SCOPE_AUTH_ISSUER: `http://127.0.0.1:${busyPort}` });
      expect(await failed.exited).toBe(1);
      expect(failed.stderr()).toContain('EADDRINUSE');
      const shown = credentialsFile(fresh);
      expect(shown.secret).toMatch(/^secret_[0-9A-Za-z]{46}$/);
      expect(failed.stdout() + failed.stderr()).not.toContain(shown.secret!);
      const db = new Database(join(fresh, 'db/scope-auth.sqlite'), { readonly: true });
      const stored = db.prepare('select org_id from api_keys where id = ?').get(shown.keyId) as { org_id: string } | undefined;
      db.close();
      expect(stored?.org_id).toBe(shown.orgId);
    } finally {
      taken.close();
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

// bin/serve.cjs, what `npm start` runs, imports the build (vitest's global setup makes it
// current). Threads are counted in /proc, so this part needs Linux.
describe.skipIf(process.platform !== 'linux')('npm start sizes libuv threadpool before it starts', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scope-auth-launcher-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Threads of a server started as `npm start` does, once it listens. */
  async function threadsOf(env: Record<string, string>): Promise<number> {
    const port = await freePort();
    const launcher = startCommand(ROOT).script;
    expect(launcher, 'npm start runs the launcher').toBe('bin/serve.cjs');
    const started = start(dir, { SCOPE_AUTH_PORT: String(port), SCOPE_AUTH_ISSUER: `http://127.0.0.1:${port}`, ...env }, [join(ROOT, launcher)]);
    try {
      await waitFor(() => started.stdout().includes('"scope-auth listening"'), 'the server to listen', started);
      const status = readFileSync(`/proc/${started.child.pid}/status`, 'utf8');
      return Number(/^Threads:\s+(\d+)$/m.exec(status)?.[1]);
    } finally {
      started.child.kill('SIGTERM');
      await started.exited;
    }
  }

  it('gives the pool one thread per concurrent argon2 verification plus one, unless the operator sized it', async () => {
    const one = await threadsOf({ SCOPE_AUTH_ARGON2_CONCURRENCY: '1' }); // a pool of 2
    const byDefault = await threadsOf({}); // the default concurrency + 1
    const operators = await threadsOf({ UV_THREADPOOL_SIZE: '7' });
    expect(byDefault - one).toBe(loadConfig({ SCOPE_AUTH_ISSUER: 'http://x' }).argon2.concurrency - 1);
    expect(operators - one).toBe(5);
  });
});
