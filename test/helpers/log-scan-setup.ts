// Vitest global setup: gives the whole run one directory for the server's logs (see
// test-logger.ts) and, when every test has finished, fails the run if any log line carries
// a secret, an access token, an argon2 hash or an Authorization value (log-scan.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findingsError, scanLogDirectory, TEST_LOG_DIR_VARIABLE } from './log-scan.js';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'scope-auth-test-logs-'));
  // Test processes are started after this and inherit it.
  process.env[TEST_LOG_DIR_VARIABLE] = dir;
  return () => {
    const result = scanLogDirectory(dir);
    if (result.findings.length > 0) {
      // Vitest prints what a teardown throws but does not fail the run for it.
      process.exitCode = 1;
      throw findingsError(dir, result.findings);
    }
    console.log(`log scan: ${result.logLines} log lines in ${result.files} files, none with a credential (${result.otherLines} other lines not scanned)`);
    rmSync(dir, { recursive: true, force: true });
  };
}
