// The settings of leak reports (POST /v1/leaks): the public keys whose signatures a report may
// carry (SCOPE_AUTH_LEAK_REPORT_KEYS, a file; GitHub's secret scanning signs its reports),
// read and checked here, at startup, and how many reports a client may send a minute
// (SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE). config.ts reads the variables.
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';
import { parseReportKeys, type ReportKey } from './domain/leak-signatures.js';

export interface LeaksConfig {
  /** SCOPE_AUTH_LEAK_REPORT_KEYS: the keys file, or null: signatures are not checked (a report is taken as unsigned). */
  readonly reportKeysFile: string | null;
  /** Its keys as read at startup (the server reads the file again when it changes). */
  readonly reportKeys: readonly ReportKey[];
  /** SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE: reports a client may send a minute, unless GitHub signed them. */
  readonly reportsPerMinute: number;
}

export const LEAK_REPORTS_PER_MINUTE_MAX = 10_000;

/** `path`: the variable's value ('' for none); `perMinute`: the other variable, already read. */
export function leaksConfig(path: string, perMinute: number): LeaksConfig {
  if (path === '') return Object.freeze({ reportKeysFile: null, reportKeys: Object.freeze([]), reportsPerMinute: perMinute });
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`SCOPE_AUTH_LEAK_REPORT_KEYS=${JSON.stringify(path)} is invalid: the file cannot be read (${code})`);
  }
  const keys = parseReportKeys(text);
  if (typeof keys === 'string') {
    throw new ConfigError(
      `SCOPE_AUTH_LEAK_REPORT_KEYS=${JSON.stringify(path)} is invalid: ${keys} (expected GitHub's https://api.github.com/meta/public_keys/secret_scanning as it answers, or PEM public keys)`,
    );
  }
  return Object.freeze({ reportKeysFile: path, reportKeys: keys, reportsPerMinute: perMinute });
}
