// An app of a test context whose server logger writes into an array, to read the lines a
// request produced.
import { Writable } from 'node:stream';
import { createApp, type App, type AppDeps } from '../../src/app.js';
import type { LogLevel } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

export type LogLine = Record<string, unknown> & { level: number; msg: string };

export interface LoggedApp {
  readonly app: App;
  /** Every line so far, parsed. */
  readonly lines: LogLine[];
  /** Every line so far as written, to search for what must never be there. */
  text(): string;
  /** The lines that carry `request_id`. */
  linesOf(requestId: string): LogLine[];
}

export function loggedApp(deps: AppDeps, level: LogLevel = 'debug'): LoggedApp {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw.push(String(chunk));
      lines.push(JSON.parse(String(chunk)) as LogLine);
      done();
    },
  });
  const app = createApp({ ...deps, logger: createLogger(level, sink) });
  return {
    app,
    lines,
    text: () => raw.join(''),
    linesOf: (requestId) => lines.filter((line) => line['request_id'] === requestId),
  };
}
