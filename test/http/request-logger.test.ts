import { Writable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { requestLogger } from '../../src/http/request-logger.js';
import type { LogLevel } from '../../src/config.js';

function appLoggingAt(level: LogLevel) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const app = express();
  const logRequest = requestLogger(createLogger(level, sink));
  app.use((req, res, next) => {
    logRequest(req, res);
    next();
  });
  app.get('/ok', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/boom', (_req, res) => {
    res.status(503).json({ ok: false });
  });
  return { app, lines };
}

describe('the request logger', () => {
  it('writes one line per request with its id, method, path without the query, status and time', async () => {
    const { app, lines } = appLoggingAt('info');
    await request(app).get('/ok?secret=secret_abc').expect(200);
    await request(app).get('/ok').expect(200);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      req: { id: 1, method: 'GET', path: '/ok' },
      res: { status: 200 },
      responseTime: expect.any(Number),
    });
    expect(JSON.stringify(lines[0])).not.toContain('secret_abc');
    expect(lines[1]).toMatchObject({ req: { id: 2 } });
  });

  it('writes server errors at error level, so they show below info', async () => {
    const { app, lines } = appLoggingAt('warn');
    await request(app).get('/ok').expect(200);
    await request(app).get('/boom').expect(503);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, req: { path: '/boom' }, res: { status: 503 } });
  });
});
