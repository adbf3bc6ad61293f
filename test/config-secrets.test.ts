// SCOPE_AUTH_KEK_FILE and SCOPE_AUTH_DATABASE_URL_FILE: the secrets as container platforms
// hand them over, in files (docker secrets, systemd credentials).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { configErrorOf } from './helpers/config-error.js';

const dir = mkdtempSync(join(tmpdir(), 'scope-auth-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function secretFile(content: string): string {
  const path = join(dir, `secret-${++files}`);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

describe('secrets read from files', () => {
  it('reads the KEK from the file SCOPE_AUTH_KEK_FILE names, without its trailing newline', () => {
    const kek = randomBytes(32);
    // What `openssl rand -base64 32 > kek` writes.
    const config = loadConfig({ SCOPE_AUTH_KEK_FILE: secretFile(`${kek.toString('base64')}\n`) });
    expect(config.kek?.equals(kek)).toBe(true);
  });

  it('reads the database URL from the file SCOPE_AUTH_DATABASE_URL_FILE names, without a trailing CRLF', () => {
    const url = 'postgres://scope_auth:s3cr%2Ft@db.internal:5432/scope_auth';
    expect(loadConfig({ SCOPE_AUTH_DATABASE_URL_FILE: secretFile(`${url}\r\n`) }).databaseUrl).toBe(url);
  });

  it('gives the same configuration as the variables themselves', () => {
    const kek = randomBytes(32).toString('base64');
    const url = 'postgres://u:p@db:5432/auth';
    const fromFiles = loadConfig({ SCOPE_AUTH_KEK_FILE: secretFile(kek), SCOPE_AUTH_DATABASE_URL_FILE: secretFile(url) });
    expect(fromFiles).toEqual(loadConfig({ SCOPE_AUTH_KEK: kek, SCOPE_AUTH_DATABASE_URL: url }));
  });

  it.each([
    ['SCOPE_AUTH_KEK', randomBytes(32).toString('base64')],
    ['SCOPE_AUTH_DATABASE_URL', 'postgres://u:p@db:5432/auth'],
  ])('refuses %s together with its _FILE variable, naming both', (name, value) => {
    const message = configErrorOf({ [name]: value, [`${name}_FILE`]: secretFile(value) });
    expect(message).toBe(`${name} and ${name}_FILE are both set: set one of them (${name}_FILE names a file holding the value)`);
  });

  it.each(['SCOPE_AUTH_KEK_FILE', 'SCOPE_AUTH_DATABASE_URL_FILE'])('refuses %s naming a missing file or a directory, naming the variable and the file', (name) => {
    const missing = join(dir, 'missing');
    expect(configErrorOf({ [name]: missing })).toMatch(new RegExp(`^${name}="${missing}" cannot be read: ENOENT`));
    const directory = join(dir, `directory-${name}`);
    mkdirSync(directory);
    expect(configErrorOf({ [name]: directory })).toMatch(new RegExp(`^${name}="${directory}" cannot be read: EISDIR`));
  });

  it.each(['SCOPE_AUTH_KEK_FILE', 'SCOPE_AUTH_DATABASE_URL_FILE'])('refuses %s naming an empty file rather than falling back to the default', (name) => {
    const empty = secretFile('\n');
    expect(configErrorOf({ [name]: empty })).toBe(`${name}=${JSON.stringify(empty)} is invalid: the file is empty`);
  });

  it('names the file of a bad KEK and never shows what it holds', () => {
    const short = randomBytes(16).toString('base64');
    const path = secretFile(`${short}\n`);
    const message = configErrorOf({ SCOPE_AUTH_KEK_FILE: path });
    expect(message).toBe(`SCOPE_AUTH_KEK_FILE=${JSON.stringify(path)} is invalid: expected 32 random bytes in base64 (openssl rand -base64 32)`);
    expect(message).not.toContain(short);
  });

  it('names the file of a bad database URL and never shows what it holds, password included', () => {
    const path = secretFile('mysql://root:hunter2-password@db/auth\n');
    const message = configErrorOf({ SCOPE_AUTH_DATABASE_URL_FILE: path });
    expect(message).toBe(`SCOPE_AUTH_DATABASE_URL_FILE=${JSON.stringify(path)} holds no database URL: expected sqlite:<path> (or sqlite::memory:) or postgres://user@host:port/database`);
    expect(message).not.toContain('hunter2');
  });

  it('shows a bad database URL given in the variable without its user and password', () => {
    const message = configErrorOf({ SCOPE_AUTH_DATABASE_URL: 'mysql://root:hunter2-password@db/auth' });
    expect(message).toMatch(/^SCOPE_AUTH_DATABASE_URL="mysql:\/\/…@db\/auth" is invalid: expected sqlite:/);
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('root');
  });

  it('treats a blank _FILE variable as unset', () => {
    expect(loadConfig({ SCOPE_AUTH_KEK_FILE: ' ', SCOPE_AUTH_DATABASE_URL_FILE: '' })).toEqual(loadConfig({}));
  });
});
