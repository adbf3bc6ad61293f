// The signatures GitHub's secret scanning puts on the leak reports it sends (POST /v1/leaks):
// `Github-Public-Key-Identifier` names one of its public keys, `Github-Public-Key-Signature`
// is the base64 DER ECDSA P-256 SHA-256 signature of the raw body. The keys come from a file
// (SCOPE_AUTH_LEAK_REPORT_KEYS) in one of two forms:
// - GitHub's own JSON, as https://api.github.com/meta/public_keys/secret_scanning answers it:
//   `{ "public_keys": [{ "key_identifier", "key" (PEM), "is_current" }] }`. Every key listed is
//   accepted, current or not: a key GitHub has just stopped signing with may still have signed
//   the reports in flight.
// - PEM public keys one after another, for reporters of one's own: a key's identifier is then
//   the lowercase hex SHA-256 of its DER SubjectPublicKeyInfo.
// The file is read and checked at startup (config-leaks.ts); a cron that refreshes it needs
// no restart: an identifier the keys do not hold has the file read again when it changed.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';

export interface ReportKey {
  readonly identifier: string;
  readonly pem: string;
}

/** Longest identifier taken from a file or a header. GitHub's are 64 hex characters. */
const IDENTIFIER_MAX = 200;
/** A DER ECDSA P-256 signature is at most 72 bytes: 96 base64 characters. */
const SIGNATURE_MAX = 200;

const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;

/** The keys of a file's text, or why the text is not a keys file. */
export function parseReportKeys(text: string): readonly ReportKey[] | string {
  const trimmed = text.trim();
  const keys = trimmed.startsWith('{') ? fromGitHubJson(trimmed) : fromPemBundle(trimmed);
  if (typeof keys === 'string') return keys;
  if (keys.length === 0) return 'it holds no public key';
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.identifier)) return `it lists the key identifier ${key.identifier} twice`;
    seen.add(key.identifier);
  }
  return Object.freeze(keys);
}

function fromGitHubJson(text: string): ReportKey[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'it is not valid JSON';
  }
  const list = (parsed as { public_keys?: unknown }).public_keys;
  if (!Array.isArray(list)) return 'expected GitHub\'s JSON: { "public_keys": [{ "key_identifier", "key" }] }';
  const keys: ReportKey[] = [];
  for (const [index, entry] of list.entries()) {
    const { key_identifier: identifier, key: pem } = (entry ?? {}) as { key_identifier?: unknown; key?: unknown };
    if (typeof identifier !== 'string' || !isIdentifier(identifier)) return `public_keys[${index}].key_identifier: expected 1 to ${IDENTIFIER_MAX} printable characters`;
    if (typeof pem !== 'string') return `public_keys[${index}].key: expected a PEM public key`;
    const problem = p256Problem(pem);
    if (problem !== null) return `public_keys[${index}].key: ${problem}`;
    keys.push({ identifier, pem });
  }
  return keys;
}

function fromPemBundle(text: string): ReportKey[] | string {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) return 'expected GitHub\'s JSON ({ "public_keys": [...] }) or PEM public keys (-----BEGIN PUBLIC KEY-----)';
  const keys: ReportKey[] = [];
  for (const [index, pem] of blocks.entries()) {
    const problem = p256Problem(pem);
    if (problem !== null) return `PEM key ${index + 1}: ${problem}`;
    keys.push({ identifier: spkiSha256(createPublicKey(pem)), pem });
  }
  return keys;
}

/** The identifier of a key of a PEM bundle: the hex SHA-256 of its DER SubjectPublicKeyInfo. */
export function spkiSha256(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

function p256Problem(pem: string): string | null {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return 'not a readable PEM public key';
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return 'expected an ECDSA P-256 public key';
  return null;
}

const isIdentifier = (value: string) => value.length > 0 && value.length <= IDENTIFIER_MAX && /^[\x21-\x7e]+$/.test(value);

export interface LeakSignatures {
  /** Whether reports' signatures are checked at all (SCOPE_AUTH_LEAK_REPORT_KEYS is set). */
  readonly configured: boolean;
  /** True when `signature` (base64 DER) is the signature of `body` by the key `identifier` names; false for anything else. */
  verify(identifier: string, signature: string, body: Buffer): boolean;
}

export interface LeakSignatureOptions {
  /** The keys file; null: none, every signature is refused (and `configured` is false). */
  readonly file: string | null;
  /** The file's keys as read at startup. */
  readonly keys: readonly ReportKey[];
  readonly logger: Logger;
}

export function createLeakSignatures(options: LeakSignatureOptions): LeakSignatures {
  const { file, logger } = options;
  let keys = keyMap(options.keys);
  let seen = file === null ? null : fileStamp(file);

  /** Reads the file again when it changed since it was last read; a bad file keeps the keys there were. */
  function reloadIfChanged(): void {
    if (file === null) return;
    const stamp = fileStamp(file);
    if (stamp === seen) return;
    seen = stamp;
    let parsed: readonly ReportKey[] | string;
    try {
      parsed = parseReportKeys(readFileSync(file, 'utf8'));
    } catch (error) {
      parsed = (error as NodeJS.ErrnoException).code ?? 'it cannot be read';
    }
    if (typeof parsed === 'string') {
      logger.warn({ file, problem: parsed }, 'leak reports: the changed keys file (SCOPE_AUTH_LEAK_REPORT_KEYS) is not usable; keeping the keys read before');
      return;
    }
    keys = keyMap(parsed);
    logger.info({ file, keys: parsed.length }, 'leak reports: read the changed keys file (SCOPE_AUTH_LEAK_REPORT_KEYS)');
  }

  return {
    configured: file !== null,
    verify(identifier, signature, body) {
      if (identifier.length > IDENTIFIER_MAX || signature.length > SIGNATURE_MAX || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
      if (!keys.has(identifier)) reloadIfChanged();
      const key = keys.get(identifier);
      if (key === undefined) return false;
      try {
        return verify('sha256', body, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
      } catch {
        return false;
      }
    },
  };
}

function keyMap(keys: readonly ReportKey[]): ReadonlyMap<string, KeyObject> {
  return new Map(keys.map((key) => [key.identifier, createPublicKey(key.pem)]));
}

/** What tells a changed file: its modification time and size (null when it is gone). */
function fileStamp(file: string): string | null {
  try {
    const stat = statSync(file);
    return `${stat.mtimeMs}:${stat.size}`;
  } catch {
    return null;
  }
}
