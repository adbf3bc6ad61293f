// What no log line may carry: an API secret, an access token (a compact JWT), an argon2
// hash, or the value of an Authorization header. The log-scan global setup runs this over
// everything the server logged during the test run.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The variable naming the run's log directory (set by log-scan-setup.ts, read by test-logger.ts). */
export const TEST_LOG_DIR_VARIABLE = 'SCOPE_AUTH_TEST_LOG_DIR';

export interface Finding {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly kind: string;
  /** The line around the first finding, every finding in it replaced by its kind. */
  readonly excerpt: string;
}

const PATTERNS: ReadonlyArray<{ kind: string; pattern: RegExp }> = [
  { kind: 'secret', pattern: /secret_[0-9A-Za-z]{46}/g },
  { kind: 'jwt', pattern: /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g },
  { kind: 'argon2 hash', pattern: /\$argon2(?:id|i|d)\$[^"\s]*/g },
  // A one-time link's token (in its path) or a session cookie's value.
  { kind: 'link token', pattern: /\/(?:invitations|password-reset)\/[A-Za-z0-9_-]{43}/g },
  { kind: 'session cookie', pattern: /scope-auth-session=[A-Za-z0-9_-]{20,}/g },
  // The second factor: a TOTP secret (base32 of 160 bits, alone or in an otpauth:// URI) and a recovery code.
  { kind: 'totp secret', pattern: /(?<![A-Za-z0-9])[A-Z2-7]{32}(?![A-Za-z0-9])|otpauth:\/\/[^"\s]*/g },
  { kind: 'recovery code', pattern: /(?<![A-Za-z0-9-])[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}(?![A-Za-z0-9-])/g },
  // A webhook's signing secret (Standard Webhooks: whsec_ and the base64 of 32 bytes).
  { kind: 'webhook secret', pattern: /whsec_[A-Za-z0-9+/]{43}=/g },
  { kind: 'csrf token', pattern: /"csrf_token"\s*:\s*"(?!\[redacted\]")[^"]+"/g },
  // An authorization field with a value that is not the redaction's censor.
  { kind: 'authorization value', pattern: /"(?:proxy-)?authorization"\s*:\s*"(?!\[redacted\]")[^"]+"/gi },
  // A credential after an auth scheme, wherever it is: at least 16 token characters, one
  // of them a digit or a dot, so prose ("Bearer authentication") and challenges
  // (`Bearer realm="…"`) are not taken for one.
  { kind: 'authorization value', pattern: /\b(?:Bearer|Basic)\s+(?=[A-Za-z0-9\-._~+/]*[0-9.])[A-Za-z0-9\-._~+/]{16,}=*/gi },
];

const EXCERPT_CHARS = 160;

/**
 * Whether a line is one the server logged: a JSON object with pino's numeric `level` and
 * `time`. Anything else a server writes on stdout is not a log line: the first start's
 * credentials block (plain text, or one JSON object without `level` and `time` under
 * `serve --json`), which shows the root secret on purpose, once.
 */
export function isLogLine(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    const parsed = JSON.parse(line) as unknown;
    return typeof parsed === 'object' && parsed !== null && typeof (parsed as { level?: unknown }).level === 'number' && typeof (parsed as { time?: unknown }).time === 'number';
  } catch {
    return false;
  }
}

/** The kinds of credential in one log line, and the line with each replaced by its kind. */
export function scanLine(line: string): { kinds: string[]; redacted: string } {
  const kinds: string[] = [];
  let redacted = line;
  for (const { kind, pattern } of PATTERNS) {
    redacted = redacted.replace(pattern, () => {
      kinds.push(kind);
      return `[${kind.toUpperCase()} FOUND]`;
    });
  }
  return { kinds, redacted };
}

function excerptOf(redacted: string): string {
  const at = redacted.indexOf(' FOUND]');
  const start = Math.max(0, at - EXCERPT_CHARS / 2);
  const text = redacted.slice(start, start + EXCERPT_CHARS);
  return `${start > 0 ? '…' : ''}${text}${start + EXCERPT_CHARS < redacted.length ? '…' : ''}`;
}

export interface ScanResult {
  readonly files: number;
  readonly logLines: number;
  /** Lines that are not log lines (see isLogLine), not scanned. */
  readonly otherLines: number;
  readonly findings: Finding[];
}

/** Scans every file in `dir`. */
export function scanLogDirectory(dir: string): ScanResult {
  const names = readdirSync(dir).sort();
  let logLines = 0;
  let otherLines = 0;
  const findings: Finding[] = [];
  for (const name of names) {
    const lines = readFileSync(join(dir, name), 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (line === '') return;
      if (!isLogLine(line)) {
        otherLines++;
        return;
      }
      logLines++;
      const { kinds, redacted } = scanLine(line);
      if (kinds.length > 0) findings.push({ file: name, line: index + 1, kind: [...new Set(kinds)].join(', '), excerpt: excerptOf(redacted) });
    });
  }
  return { files: names.length, logLines, otherLines, findings };
}

/** The error a run with findings fails with: where, what, and a redacted excerpt of each (the first 20). */
export function findingsError(dir: string, findings: readonly Finding[]): Error {
  const shown = findings.slice(0, 20).map((f) => `  ${f.file}:${f.line}: ${f.kind}\n    ${f.excerpt}`);
  const more = findings.length > shown.length ? `\n  … and ${findings.length - shown.length} more` : '';
  return new Error(`log scan: ${findings.length} log line(s) carry credentials (the logs are kept in ${dir}):\n${shown.join('\n')}${more}`);
}
