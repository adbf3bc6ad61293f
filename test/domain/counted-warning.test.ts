import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { countedWarning } from '../../src/domain/counted-warning.js';

const WINDOW_MS = 40;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sink() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('a counted warning', () => {
  it('writes one warn line per window with how many times it happened, not one per occurrence', async () => {
    const { logger, lines } = sink();
    const warning = countedWarning(logger, 'queue full', WINDOW_MS);
    for (let i = 0; i < 250; i++) warning.count({ retry_after_seconds: 1 + (i % 3) });
    expect(lines).toEqual([]);
    await sleep(WINDOW_MS * 2);
    expect(lines).toEqual([expect.objectContaining({ level: 40, msg: 'queue full', count: 250, window_ms: WINDOW_MS, retry_after_seconds: 1 + (249 % 3) })]);
  });

  it('counts each window on its own line, and writes nothing for a window without any', async () => {
    const { logger, lines } = sink();
    const warning = countedWarning(logger, 'database unavailable', WINDOW_MS);
    warning.count();
    warning.count();
    await sleep(WINDOW_MS * 2);
    await sleep(WINDOW_MS * 2);
    warning.count({ err: { message: 'connection terminated' } });
    await sleep(WINDOW_MS * 2);
    expect(lines.map((line) => [line['count'], line['err']])).toEqual([
      [2, undefined],
      [1, expect.objectContaining({ message: 'connection terminated' })],
    ]);
  });
});
