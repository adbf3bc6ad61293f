// SCOPE_AUTH_LEAK_REPORT_KEYS and SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE: the keys file is read and
// checked at startup, in GitHub's JSON or as PEM public keys; a file that is not one stops
// startup with a message naming the variable and what is wrong.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLeakSignatures, spkiSha256 } from '../src/domain/leak-signatures.js';
import { configErrorOf } from './helpers/config-error.js';
import { githubKeysJson, keysDir, newSigner } from './helpers/leaks.js';
import { testLogger } from './helpers/test-logger.js';

const dir = keysDir();
afterAll(() => dir.remove());
let files = 0;
const file = (text: string) => dir.write(`keys-${++files}`, text);

const pemOf = (type: 'rsa' | 'ec', curve?: string) =>
  (type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: curve! })).publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('the leak reports configuration', () => {
  it('defaults to no keys file (signatures not checked) and 10 reports a minute per client', () => {
    expect(loadConfig({}).leaks).toEqual({ reportKeysFile: null, reportKeys: [], reportsPerMinute: 10 });
  });

  it('reads GitHub’s public keys document, every key current or not', () => {
    const signers = [newSigner('current'), newSigner('previous')];
    const path = file(githubKeysJson(signers));
    const config = loadConfig({ SCOPE_AUTH_LEAK_REPORT_KEYS: path, SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE: '30' });
    expect(config.leaks).toEqual({ reportKeysFile: path, reportKeys: signers.map((s) => ({ identifier: s.identifier, pem: s.publicPem })), reportsPerMinute: 30 });
  });

  it('reads PEM public keys, each named by the hex SHA-256 of its DER SubjectPublicKeyInfo, and verifies their signatures', () => {
    const [a, b] = [newSigner('a'), newSigner('b')];
    const path = file(`# reporters of our own\n${a.publicPem}\n${b.publicPem}`);
    const { leaks } = loadConfig({ SCOPE_AUTH_LEAK_REPORT_KEYS: path });
    const identifiers = [a, b].map((s) => spkiSha256(createPublicKey(s.publicPem)));
    expect(leaks.reportKeys.map((k) => k.identifier)).toEqual(identifiers);
    const signatures = createLeakSignatures({ file: path, keys: leaks.reportKeys, logger: testLogger() });
    const body = '[{"token":"x"}]';
    expect(signatures.verify(identifiers[1]!, b.sign(body), Buffer.from(body))).toBe(true);
    expect(signatures.verify(identifiers[0]!, b.sign(body), Buffer.from(body))).toBe(false);
  });

  it('stops startup for a keys file that cannot be read or is not one, naming the variable and the problem', () => {
    const cases: [string, string][] = [
      [dir.path('missing.json'), 'the file cannot be read (ENOENT)'],
      [file('{ "public_keys": '), 'it is not valid JSON'],
      [file('{ "keys": [] }'), 'expected GitHub\'s JSON'],
      [file('{ "public_keys": [] }'), 'it holds no public key'],
      [file(JSON.stringify({ public_keys: [{ key: pemOf('ec', 'P-256') }] })), 'public_keys[0].key_identifier: expected 1 to 200 printable characters'],
      [file(JSON.stringify({ public_keys: [{ key_identifier: 'k', key: 'not a key' }] })), 'public_keys[0].key: not a readable PEM public key'],
      [file(JSON.stringify({ public_keys: [{ key_identifier: 'k', key: pemOf('rsa') }] })), 'public_keys[0].key: expected an ECDSA P-256 public key'],
      [file(JSON.stringify({ public_keys: [{ key_identifier: 'k', key: pemOf('ec', 'P-384') }] })), 'expected an ECDSA P-256 public key'],
      [file(githubKeysJson([newSigner('same'), newSigner('same')])), 'it lists the key identifier same twice'],
      [file('hello'), 'or PEM public keys (-----BEGIN PUBLIC KEY-----)'],
      [file(pemOf('rsa')), 'PEM key 1: expected an ECDSA P-256 public key'],
    ];
    for (const [path, problem] of cases) {
      const message = configErrorOf({ SCOPE_AUTH_LEAK_REPORT_KEYS: path });
      expect(message).toContain(`SCOPE_AUTH_LEAK_REPORT_KEYS=${JSON.stringify(path)} is invalid: `);
      expect(message).toContain(problem);
    }
  });

  it('refuses a rate that is not a whole number from 1 to 10000', () => {
    for (const value of ['0', '-1', 'ten', '10001']) {
      expect(configErrorOf({ SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE: value })).toContain('SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE');
    }
  });
});
