import { Writable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { addLogFields, requestLogger, setLogLevel } from '../../src/http/request-logger.js';
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
  app.get('/noted', (_req, res) => {
    addLogFields(res, { actor: 'key_1', request_id: 'not-this-one' });
    addLogFields(res, { outcome: 'issued' });
    res.json({ ok: true });
  });
  app.get('/shed', (_req, res) => {
    setLogLevel(res, 'debug');
    res.status(503).json({ ok: false });
  });
  return { app, lines };
}

describe('the request logger', () => {
  it('writes one line per request with its id, method, path without the query, status and time', async () => {
    const { app, lines } = appLoggingAt('info');
    const first = await request(app).get('/ok?secret=secret_abc').expect(200);
    const second = await request(app).get('/ok').expect(200);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      level: 30,
      time: expect.any(Number),
      pid: expect.any(Number),
      hostname: expect.any(String),
      msg: 'request completed',
      request_id: first.headers['x-request-id'],
      req: { method: 'GET', path: '/ok' },
      res: { status: 200 },
      responseTime: expect.any(Number),
    });
    expect(JSON.stringify(lines[0])).not.toContain('secret_abc');
    expect(lines[1]).toMatchObject({ request_id: second.headers['x-request-id'] });
  });

  it('makes an id for a request that brings none: a per-process prefix and a counter', async () => {
    const { app } = appLoggingAt('info');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await request(app).get('/ok')).headers['x-request-id'] as string);
    const prefix = ids[0]!.slice(0, 8);
    expect(prefix).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(ids).toEqual([`${prefix}-1`, `${prefix}-2`, `${prefix}-3`]);
    const other = appLoggingAt('info');
    expect((await request(other.app).get('/ok')).headers['x-request-id']).not.toBe(ids[0]);
  });

  it("keeps a caller's well-formed X-Request-Id, echoes it and logs it", async () => {
    const { app, lines } = appLoggingAt('info');
    const id = 'f47ac10b-58cc-4372-a567-0e02b2c3d479:edge.7_x';
    const res = await request(app).get('/ok').set('X-Request-Id', id).expect(200);
    expect(res.headers['x-request-id']).toBe(id);
    expect(lines[0]).toMatchObject({ request_id: id });
    const longest = 'a'.repeat(128);
    expect((await request(app).get('/ok').set('X-Request-Id', longest)).headers['x-request-id']).toBe(longest);
  });

  it('replaces an X-Request-Id that is too long, empty, or holds other characters, rather than log it', async () => {
    const { app, lines } = appLoggingAt('info');
    for (const bad of ['a'.repeat(129), 'two words', 'semi;colon', 'quote"d', 'ünïcode', '']) {
      const res = await request(app).get('/ok').set('X-Request-Id', bad).expect(200);
      expect(res.headers['x-request-id']).not.toBe(bad);
      expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
    }
    // Two headers arrive joined by ", ": neither is taken.
    const twice = await request(app).get('/ok').set('X-Request-Id', ['one', 'two'] as unknown as string).expect(200);
    expect(twice.headers['x-request-id']).toMatch(/^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
    for (const line of lines) expect(line['request_id']).toMatch(/^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
  });

  it('neither keeps nor logs an X-Request-Id that may be a credential, nor a secret or token in the path', async () => {
    const { app, lines } = appLoggingAt('info');
    const secret = `secret_${'Ab1'.repeat(15)}z`;
    const jwt = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.';
    for (const id of [secret, jwt]) expect((await request(app).get('/ok').set('X-Request-Id', id)).headers['x-request-id']).not.toBe(id);
    await request(app).get(`/ok/${secret}/and/${jwt}x?q=1`).expect(404);
    expect(lines.at(-1)).toMatchObject({ req: { path: '/ok/secret_[redacted]/and/[redacted]' } });
    const text = JSON.stringify(lines);
    for (const credential of [secret, jwt]) expect(text).not.toContain(credential);
  });

  it('adds the fields the handler noted, but never over its own', async () => {
    const { app, lines } = appLoggingAt('info');
    const res = await request(app).get('/noted').expect(200);
    expect(lines[0]).toMatchObject({ actor: 'key_1', outcome: 'issued', request_id: res.headers['x-request-id'] });
  });

  it('writes server errors at error level, so they show below info', async () => {
    const { app, lines } = appLoggingAt('warn');
    await request(app).get('/ok').expect(200);
    await request(app).get('/boom').expect(503);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, req: { path: '/boom' }, res: { status: 503 } });
  });

  it('writes a line at the level the handler chose instead, when it counts those answers elsewhere', async () => {
    const quiet = appLoggingAt('info');
    await request(quiet.app).get('/shed').expect(503);
    expect(quiet.lines).toEqual([]);
    const verbose = appLoggingAt('debug');
    await request(verbose.app).get('/shed').expect(503);
    expect(verbose.lines).toEqual([expect.objectContaining({ level: 20, res: { status: 503 } })]);
  });
});
