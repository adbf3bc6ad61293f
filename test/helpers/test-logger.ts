// Where the server code running in tests logs. During `npm test` the log-scan global setup
// (log-scan-setup.ts) names a directory in SCOPE_AUTH_TEST_LOG_DIR: in-process servers log
// there at debug, each test process to a file of its own, and spawned servers' stdout is
// copied there, so that the scan at the end of the run reads everything the server wrote.
// Without the variable (a test run some other way) the loggers are silent, as before.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pino, type DestinationStream, type Logger } from 'pino';
import { createLogger } from '../../src/logger.js';
import { TEST_LOG_DIR_VARIABLE } from './log-scan.js';

const logDir = (): string | undefined => process.env[TEST_LOG_DIR_VARIABLE] || undefined;

let destination: DestinationStream | undefined;

/**
 * The logger to give server code under test: the server's own (createLogger, with its
 * redaction) at debug into this process's file, or silent when no directory is set.
 * Synchronous writes: a test process may end at any moment, and no line may be lost.
 */
export function testLogger(): Logger {
  const dir = logDir();
  if (dir === undefined) return pino({ level: 'silent' });
  destination ??= pino.destination({ dest: join(dir, `in-process-${process.pid}.log`), append: true, sync: true });
  return createLogger('debug', destination);
}

let spawned = 0;

/** Copies a spawned server's stdout into the log directory (a file per server); nothing without one. */
export function captureServerOutput(stdout: Readable, label: string): void {
  const dir = logDir();
  if (dir === undefined) return;
  const name = `spawned-${label}-${process.pid}-${++spawned}.log`;
  stdout.pipe(createWriteStream(join(dir, name), { flags: 'a' }));
}
