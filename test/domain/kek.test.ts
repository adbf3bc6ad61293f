import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KekError, loadKek, open, seal } from '../../src/domain/kek.js';

describe('loadKek', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scope-auth-kek-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates <dir>/kek with mode 0600 on first start, creating the directory', () => {
    const keysDir = join(dir, 'keys');
    const { kek, created } = loadKek(null, keysDir);
    expect(created).toBe(true);
    expect(kek).toHaveLength(32);
    const path = join(keysDir, 'kek');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64').equals(kek)).toBe(true);
  });

  it('reuses the file on the next start', () => {
    const first = loadKek(null, dir);
    const second = loadKek(null, dir);
    expect(second.created).toBe(false);
    expect(second.kek.equals(first.kek)).toBe(true);
  });

  it('tightens a kek file readable by others to 0600', () => {
    const { kek } = loadKek(null, dir);
    chmodSync(join(dir, 'kek'), 0o644);
    expect(loadKek(null, dir).kek.equals(kek)).toBe(true);
    expect(statSync(join(dir, 'kek')).mode & 0o777).toBe(0o600);
  });

  it('uses a KEK from the environment and creates no file', () => {
    const fromEnv = randomBytes(32);
    const keysDir = join(dir, 'keys');
    const { kek, created } = loadKek(fromEnv, keysDir);
    expect(kek.equals(fromEnv)).toBe(true);
    expect(created).toBe(false);
    expect(existsSync(keysDir)).toBe(false);
  });

  it('prefers the environment KEK over an existing file', () => {
    loadKek(null, dir);
    const fromEnv = randomBytes(32);
    expect(loadKek(fromEnv, dir).kek.equals(fromEnv)).toBe(true);
  });

  it.each([
    ['not base64 of 32 bytes', 'not a key'],
    ['16 bytes', randomBytes(16).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['empty', ''],
  ])('refuses a malformed kek file (%s), naming the file', (_what, content) => {
    const path = join(dir, 'kek');
    writeFileSync(path, content, { mode: 0o600 });
    expect(() => loadKek(null, dir)).toThrow(KekError);
    expect(() => loadKek(null, dir)).toThrow(`${path} is not a 32-byte base64 key-encryption key`);
    // The malformed file is left for the operator to inspect, not replaced.
    expect(readFileSync(path, 'utf8')).toBe(content);
  });
});

describe('seal and open', () => {
  const kek = randomBytes(32);
  const aad = 'signing key abc';
  const plaintext = JSON.stringify({ kty: 'EC', d: 'private-part' });

  it('round-trips a value', () => {
    expect(open(kek, seal(kek, plaintext, aad), aad)).toBe(plaintext);
  });

  it('does not leave the plaintext visible and differs on every seal', () => {
    const a = seal(kek, plaintext, aad);
    const b = seal(kek, plaintext, aad);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toContain('private-part');
    expect(Buffer.from(a.split('.')[3]!, 'base64url').toString('utf8')).not.toContain('private-part');
  });

  it('refuses to open with another KEK, naming the KEK', () => {
    const sealed = seal(kek, plaintext, aad);
    expect(() => open(randomBytes(32), sealed, aad)).toThrow(KekError);
    expect(() => open(randomBytes(32), sealed, aad)).toThrow(/key-encryption key \(SCOPE_AUTH_KEK or keys\/kek\)/);
  });

  it('refuses tampered ciphertext, iv or tag', () => {
    const sealed = seal(kek, plaintext, aad);
    const parts = sealed.split('.');
    for (const index of [1, 2, 3]) {
      const bytes = Buffer.from(parts[index]!, 'base64url');
      bytes[0] = bytes[0]! ^ 0x01;
      const tampered = parts.map((p, i) => (i === index ? bytes.toString('base64url') : p)).join('.');
      expect(() => open(kek, tampered, aad), `part ${index}`).toThrow(KekError);
    }
  });

  it('refuses a ciphertext sealed for another row (AAD)', () => {
    const sealed = seal(kek, plaintext, aad);
    expect(() => open(kek, sealed, 'signing key other')).toThrow(KekError);
  });

  it.each(['', 'v1', 'v2.a.b.c', 'v1.a.b', 'garbage'])('refuses an unreadable sealed value %j', (sealed) => {
    expect(() => open(kek, sealed, aad)).toThrow(KekError);
  });
});
