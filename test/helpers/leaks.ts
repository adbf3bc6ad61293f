// Leak reports as a reporter sends them (POST /v1/leaks), and a GitHub-like signer: a P-256
// key pair made for the test, its public key in a keys file of GitHub's shape (or PEM), and
// signatures over the raw body as GitHub makes them (base64 DER ECDSA SHA-256).
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { App } from '../../src/app.js';

export const LEAKS = '/v1/leaks';

export interface Signer {
  readonly identifier: string;
  readonly privateKey: KeyObject;
  readonly publicPem: string;
  /** The signature of `text` (as UTF-8 bytes), as `Github-Public-Key-Signature` carries it. */
  sign(text: string): string;
}

export function newSigner(identifier: string): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    identifier,
    privateKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (text) => sign('sha256', Buffer.from(text, 'utf8'), { key: privateKey, dsaEncoding: 'der' }).toString('base64'),
  };
}

/** GitHub's https://api.github.com/meta/public_keys/secret_scanning answer, for `signers`. */
export function githubKeysJson(signers: readonly Signer[]): string {
  return JSON.stringify({ public_keys: signers.map((s, i) => ({ key_identifier: s.identifier, key: s.publicPem, is_current: i === 0 })) });
}

/** A directory for keys files, removed with remove(). */
export function keysDir(): { path(name: string): string; write(name: string, text: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'scope-auth-leak-keys-'));
  return {
    path: (name) => join(dir, name),
    write(name, text) {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** POST /v1/leaks with `body` (a value, sent as JSON, or text sent as it is) from `ip` (the app must trust X-Forwarded-For). */
export function report(app: App, body: unknown, options: { ip?: string; headers?: Record<string, string> } = {}): request.Test {
  const req = request(app).post(LEAKS).set('Content-Type', 'application/json');
  if (options.ip !== undefined) req.set('X-Forwarded-For', options.ip);
  for (const [name, value] of Object.entries(options.headers ?? {})) req.set(name, value);
  return req.send(typeof body === 'string' ? body : JSON.stringify(body));
}

/** The same, signed by `signer` over the exact text sent. */
export function signedReport(app: App, signer: Signer, text: string, options: { ip?: string } = {}): request.Test {
  return report(app, text, {
    ...options,
    headers: { 'Github-Public-Key-Identifier': signer.identifier, 'Github-Public-Key-Signature': signer.sign(text) },
  });
}
