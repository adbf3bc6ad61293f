import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { generateSecret, isId, isWellFormedSecret, newId, secretHint, ulid } from '../../src/domain/credentials.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** DESIGN's checksum, written independently of the module under test. */
function expectedChecksum(head: string): string {
  let n = BigInt(crc32(head));
  let out = '';
  do {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  } while (n > 0n);
  return out.padStart(6, '0');
}

/** Replaces the character at `index` with a different base62 character. */
function changeCharAt(text: string, index: number): string {
  const current = text[index]!;
  const replacement = BASE62[(BASE62.indexOf(current) + 1) % 62]!;
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe('ids', () => {
  it.each([
    ['org', 'org_'],
    ['app', 'app_'],
    ['key', 'key_'],
    ['event', 'evt_'],
  ] as const)('gives a %s id the prefix %s followed by a 26-char Crockford ULID', (kind, prefix) => {
    const id = newId(kind, Date.UTC(2026, 0, 1));
    expect(id.startsWith(prefix)).toBe(true);
    expect(id.slice(prefix.length)).toMatch(CROCKFORD);
    expect(isId(kind, id)).toBe(true);
  });

  it('encodes the time in the first 10 characters, most significant first', () => {
    expect(ulid(0).slice(0, 10)).toBe('0000000000');
    expect(ulid(1).slice(0, 10)).toBe('0000000001');
    expect(ulid(32).slice(0, 10)).toBe('0000000010');
    // The largest 48-bit time is the largest valid ULID time.
    expect(ulid(2 ** 48 - 1).slice(0, 10)).toBe('7ZZZZZZZZZ');
  });

  it('sorts ids made later after ids made earlier', () => {
    const start = Date.UTC(2026, 10, 23, 12, 0, 0);
    const ids = [0, 1, 2, 1000, 60_000, 86_400_000, 365 * 86_400_000].map((offset) => newId('key', start + offset));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sorts ids made in the same millisecond in the order they were made', () => {
    const ids = Array.from({ length: 100 }, () => newId('event', 1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
  });

  it('makes distinct ids within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newId('event', 1_700_000_000_000));
    expect(new Set(ids).size).toBe(1000);
  });

  it.each([
    ['org', 'org_01JD0000000000000000000000', true],
    ['org', 'app_01JD0000000000000000000000', false],
    ['org', 'org_01JD000000000000000000000', false],
    ['org', 'org_01JD00000000000000000000000', false],
    ['org', 'org_01jd0000000000000000000000', false],
    ['org', 'org_01JD000000000000000000000I', false],
    ['org', 'org_01JD000000000000000000000L', false],
    ['org', 'org_01JD000000000000000000000O', false],
    ['org', 'org_01JD000000000000000000000U', false],
    ['org', 'org_81JD0000000000000000000000', false],
    ['org', ' org_01JD0000000000000000000000', false],
    ['org', 'org_01JD0000000000000000000000\n', false],
    ['key', 'key_7ZZZZZZZZZZZZZZZZZZZZZZZZZ', true],
    ['event', 'evt_01JD0000000000000000000000', true],
    ['event', 'event_01JD0000000000000000000000', false],
    ['app', '', false],
  ] as const)('isId(%s, %j) is %s', (kind, value, expected) => {
    expect(isId(kind, value)).toBe(expected);
  });
});

describe('secrets', () => {
  it('have the shape secret scanners look for', () => {
    for (let i = 0; i < 50; i++) expect(generateSecret()).toMatch(/^secret_[0-9A-Za-z]{46}$/);
  });

  it('end in the base62 CRC32 of everything before the checksum, padded to 6 characters', () => {
    for (let i = 0; i < 200; i++) {
      const secret = generateSecret();
      expect(secret.slice(-6)).toBe(expectedChecksum(secret.slice(0, -6)));
    }
  });

  it('checks against the checksum computed as DESIGN describes, including short checksums that need padding', () => {
    // Bodies whose CRC32 is below 62^4, so the checksum starts with two padding zeros.
    let found = 0;
    for (let i = 0; found < 3 && i < 1_000_000; i++) {
      const head = `secret_${i.toString(36).padStart(40, 'a')}`;
      if (crc32(head) < 62 ** 4) {
        const secret = head + expectedChecksum(head);
        expect(secret.slice(-6, -4)).toBe('00');
        expect(isWellFormedSecret(secret)).toBe(true);
        found++;
      }
    }
    expect(found).toBe(3);
  });

  it('are accepted by isWellFormedSecret as generated', () => {
    for (let i = 0; i < 50; i++) expect(isWellFormedSecret(generateSecret())).toBe(true);
  });

  it('are rejected after a one-character change anywhere in the body', () => {
    const secret = generateSecret();
    for (let index = 'secret_'.length; index < secret.length - 6; index++) {
      expect(isWellFormedSecret(changeCharAt(secret, index)), `changed body char ${index}`).toBe(false);
    }
  });

  it('are rejected after a one-character change anywhere in the checksum', () => {
    const secret = generateSecret();
    for (let index = secret.length - 6; index < secret.length; index++) {
      expect(isWellFormedSecret(changeCharAt(secret, index)), `changed checksum char ${index}`).toBe(false);
    }
  });

  it('are rejected with the wrong length, even with a matching checksum', () => {
    const secret = generateSecret();
    expect(isWellFormedSecret(secret.slice(0, -1))).toBe(false);
    expect(isWellFormedSecret(secret + 'a')).toBe(false);
    const shortHead = secret.slice(0, -7);
    expect(isWellFormedSecret(shortHead + expectedChecksum(shortHead))).toBe(false);
    const longHead = secret.slice(0, -6) + 'a';
    expect(isWellFormedSecret(longHead + expectedChecksum(longHead))).toBe(false);
    expect(isWellFormedSecret('')).toBe(false);
  });

  it('are rejected with the wrong prefix, even with a matching checksum', () => {
    const body = generateSecret().slice('secret_'.length, -6);
    for (const prefix of ['Secret_', 'secret-', 'secrets', 'token_', 'sk_live']) {
      const head = prefix + body;
      expect(isWellFormedSecret(head + expectedChecksum(head)), prefix).toBe(false);
    }
  });

  it('are rejected with characters outside base62', () => {
    const secret = generateSecret();
    for (const bad of ['-', '_', '+', '/', ' ', 'é']) {
      expect(isWellFormedSecret(secret.slice(0, 20) + bad + secret.slice(21))).toBe(false);
    }
  });

  it('hint at themselves by their last 4 characters', () => {
    const secret = generateSecret();
    expect(secretHint(secret)).toBe(secret.slice(-4));
    expect(secretHint(secret)).toHaveLength(4);
    expect(secretHint('secret_abcdefWXYZ')).toBe('WXYZ');
  });

  it('are distinct and spread evenly over the base62 alphabet', () => {
    const secrets = Array.from({ length: 1000 }, () => generateSecret());
    expect(new Set(secrets).size).toBe(1000);
    const counts = new Map<string, number>([...BASE62].map((c) => [c, 0]));
    for (const secret of secrets) {
      for (const c of secret.slice('secret_'.length, -6)) counts.set(c, counts.get(c)! + 1);
    }
    // 40,000 random characters: about 645 of each (σ ≈ 25). A uniform source stays within
    // ±25% of that for every character (> 6σ) and below 150 for Pearson's χ² with 61
    // degrees of freedom (p ≈ 1e-9), so this does not flake; a missing range or a stuck
    // character breaks the first bound, modulo bias (byte % 62: χ² ≈ 260) the second.
    const expected = 40_000 / 62;
    let chiSquare = 0;
    for (const [char, count] of counts) {
      expect(count, `occurrences of ${char}`).toBeGreaterThan(expected * 0.75);
      expect(count, `occurrences of ${char}`).toBeLessThan(expected * 1.25);
      chiSquare += (count - expected) ** 2 / expected;
    }
    expect(chiSquare).toBeLessThan(150);
  });
});
