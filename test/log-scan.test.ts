// The scan that ends every test run (test/helpers/log-scan-setup.ts): it must find each kind
// of credential in a log line, say where, show it redacted, and leave alone what a server
// writes on stdout that is not a log line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findingsError, isLogLine, scanLine, scanLogDirectory } from './helpers/log-scan.js';

const SECRET = `secret_${'aB3'.repeat(15)}x`;
const JWT = 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJrZXlfMDFKIn0.MEUCIQDx3nR7m1Kp_Zs9';
const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';
const log = (fields: Record<string, unknown>, msg = 'request completed') => JSON.stringify({ level: 30, time: 1796166000000, pid: 1, hostname: 'h', ...fields, msg });

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('the log scan', () => {
  it('finds a secret, a JWT, an argon2 hash and Authorization values in a log line', () => {
    expect(SECRET).toMatch(/^secret_[0-9A-Za-z]{46}$/);
    expect(scanLine(log({ body: { secret: SECRET } })).kinds).toEqual(['secret']);
    expect(scanLine(log({}, `verified ${JWT}`)).kinds).toEqual(['jwt']);
    expect(scanLine(log({ row: { secret_hash: HASH } })).kinds).toEqual(['argon2 hash']);
    expect(scanLine(log({ headers: { Authorization: 'Basic a2V5XzAxOnNlY3JldA==' } })).kinds).toEqual(['authorization value']);
    expect(scanLine(log({ upstream: 'sent Bearer 7fQ2xLm9Zr4TkW8p' })).kinds).toEqual(['authorization value']);
  });

  it('finds a second factor’s TOTP secret (alone or in its otpauth:// URI) and a recovery code in a log line', () => {
    expect(scanLine(log({ body: { secret: 'HOAESGAZEPRESTTWKKQBZS4S4MZ75OFA' } })).kinds).toEqual(['totp secret']);
    expect(scanLine(log({ body: { otpauth_uri: 'otpauth://totp/x:ada%40example.com?issuer=x&secret=HOAESGAZ' } })).kinds).toEqual(['totp secret']);
    expect(scanLine(log({ body: { recovery_code: 'gfmy-ncwo-noqg-omvv' } })).kinds).toEqual(['recovery code']);
  });

  it('passes what is not a credential: the redaction censor, challenges, prose, ids and hints', () => {
    for (const line of [
      log({ headers: { authorization: '[redacted]' }, secret: '[redacted]' }),
      log({ www_authenticate: 'Bearer realm="scope-auth", error="invalid_token"' }, 'a Bearer token from this server is required; Bearer authentication failed'),
      log({ key_id: 'key_01JAAAAAAAAAAAAAAAAAAAAAAA', org_id: 'org_01JAAAAAAAAAAAAAAAAAAAAAAA', secret_hint: 'x9Qa', request_id: 'k3Jd9_xQ-1f' }),
      log({ alg: 'ES256', kid: 'eyJ-not-a-jwt' }, 'secret_ is the prefix of every secret'),
    ]) {
      expect(scanLine(line)).toEqual({ kinds: [], redacted: line });
    }
  });

  it('reads only log lines: the first start credentials block, text or JSON, is not one', () => {
    const block = [
      '='.repeat(72),
      'scope-auth: first start. The root organization and its admin key were created.',
      `  SCOPE_API_SECRET=${SECRET}`,
      '='.repeat(72),
    ];
    for (const line of block) expect(isLogLine(line)).toBe(false);
    expect(isLogLine(JSON.stringify({ org: {}, admin_app: {}, key: {}, secret: SECRET }))).toBe(false);
    expect(isLogLine('{"level":30,"time":1,"msg":"x"')).toBe(false);
    expect(isLogLine(log({}))).toBe(true);
  });

  it('fails with the file, the line and a redacted excerpt of every finding in the directory', () => {
    dir = mkdtempSync(join(tmpdir(), 'scope-auth-log-scan-test-'));
    const stdout = [
      '='.repeat(72),
      `  SCOPE_API_SECRET=${SECRET}`,
      log({ url: 'http://127.0.0.1:8080' }, 'scope-auth listening'),
      log({ note: 'x'.repeat(300), token: JWT, more: 'y'.repeat(300) }),
      '',
    ].join('\n');
    writeFileSync(join(dir, 'spawned-e2e-1-1.log'), stdout);
    writeFileSync(join(dir, 'in-process-1.log'), `${log({ ok: true })}\n${log({ secret: SECRET, hash: HASH })}\n`);

    const result = scanLogDirectory(dir);
    expect(result).toMatchObject({ files: 2, logLines: 4, otherLines: 2 });
    expect(result.findings.map(({ file, line, kind }) => ({ file, line, kind }))).toEqual([
      { file: 'in-process-1.log', line: 2, kind: 'secret, argon2 hash' },
      { file: 'spawned-e2e-1-1.log', line: 4, kind: 'jwt' },
    ]);
    const error = findingsError(dir, result.findings);
    expect(error.message).toContain('log scan: 2 log line(s) carry credentials');
    expect(error.message).toContain('in-process-1.log:2: secret, argon2 hash');
    expect(error.message).toContain('"secret":"[SECRET FOUND]"');
    expect(error.message).toContain('"token":"[JWT FOUND]"');
    for (const credential of [SECRET, JWT, HASH, 'x'.repeat(100)]) expect(error.message).not.toContain(credential);
  });
});
