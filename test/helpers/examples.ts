// Runs the programs of examples/ as a reader would: spawned, with only their documented
// environment, against a real server on 127.0.0.1. Each is bounded in time and stopped by
// its own PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import type { TestServer } from './server.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const EXAMPLES = join(ROOT, 'examples');

const START_TIMEOUT_MS = 20_000;

/** PATH (so `node`, `bash`, `curl` are found) and `env`, nothing else of the test's environment. */
export function exampleEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, ...env };
}

export interface RunningExample {
  /** What it wrote so far, stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** Starts a long-running example and resolves once it has printed `listening on`. */
export function startExample(command: string, args: readonly string[], env: Record<string, string>): Promise<RunningExample> {
  const child = spawn(command, args, { cwd: ROOT, env: exampleEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const running: RunningExample = { output: () => output, stop: () => stopped(child) };
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      void running.stop();
      reject(new Error(`${args.join(' ')} did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) {
        clearTimeout(timer);
        resolveStart(running);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code}) before it listened:\n${output}`));
    });
  });
}

export interface ExampleRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs an example to its end, killed after `timeoutMs`. */
export function runExample(command: string, args: readonly string[], env: Record<string, string>, timeoutMs = 30_000): Promise<ExampleRun> {
  const child = spawn(command, args, { cwd: ROOT, env: exampleEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  return new Promise((done) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

export interface ExampleKey {
  readonly orgId: string;
  readonly appId: string;
  readonly keyId: string;
  readonly secret: string;
}

async function call(server: TestServer, path: string, init: { token?: string; body: unknown }): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}) },
    body: JSON.stringify(init.body),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`POST ${path} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** An access token of the key. */
export async function tokenOf(server: TestServer, key: Pick<ExampleKey, 'orgId' | 'keyId' | 'secret'>): Promise<string> {
  const body = await call(server, '/v1/token', { body: { org_id: key.orgId, key_id: key.keyId, secret: key.secret } });
  return body['access_token'] as string;
}

/** An app granted `scopes` in the root org, and a key for it, made through the admin API. */
export async function appWithKey(server: TestServer, name: string, scopes: readonly string[]): Promise<ExampleKey> {
  const admin = await tokenOf(server, server);
  const app = await call(server, '/v1/apps', { token: admin, body: { name, scopes } });
  const created = await call(server, `/v1/apps/${app['id'] as string}/keys`, { token: admin, body: { name: `${name} key` } });
  return { orgId: server.orgId, appId: app['id'] as string, keyId: (created['key'] as { id: string }).id, secret: created['secret'] as string };
}

/**
 * The same claims, signed with the server's own signing key, under a `typ` other than
 * at+jwt: what a verifier that skips the `typ` check would take for an access token.
 */
export async function resignedWithTyp(server: TestServer, token: string, typ: string): Promise<string> {
  const key = server.server.deps.keyring.signingKey();
  const { kid, alg } = decodeProtectedHeader(token);
  if (kid !== key.kid || alg !== key.alg) throw new Error('the token is not signed by the current signing key');
  return new SignJWT(decodeJwt(token)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ }).sign(key.privateKey);
}

/** POST /v1/runs on an example service, as its client would. */
export async function postRun(serviceUrl: string, token?: string): Promise<{ status: number; body: unknown; challenge: string | null }> {
  const res = await fetch(`${serviceUrl}/v1/runs`, { method: 'POST', headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown), challenge: res.headers.get('www-authenticate') };
}
