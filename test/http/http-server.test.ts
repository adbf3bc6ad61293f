// The Node server's bounds, on real sockets: a client that stalls is cut off within the
// configured time, and connections beyond SCOPE_AUTH_MAX_CONNECTIONS are refused.
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Node looks for expired requests once a second (src/http/http-server.ts). */
const CHECK_INTERVAL_MS = 1000;
const SLACK_MS = 1500;

interface Opened {
  readonly socket: Socket;
  /** What the server sent. */
  received(): string;
  /** Resolves with the milliseconds from opening until the server closed the connection. */
  readonly closed: Promise<number>;
}

function open(url: string): Promise<Opened> {
  const { hostname, port } = new URL(url);
  const started = Date.now();
  const socket = connect(Number(port), hostname);
  let data = '';
  socket.on('data', (chunk) => (data += String(chunk)));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/** One request on a fresh connection, read to the end of its headers. */
async function get(url: string, path: string): Promise<string> {
  const opened = await open(url);
  opened.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  await opened.closed;
  return opened.received();
}

describe('a server with a 1-second request timeout', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { SCOPE_AUTH_REQUEST_TIMEOUT: '1' } });
  });
  afterAll(async () => server?.close());

  it('closes a connection whose body stalls, with 408, within the timeout', async () => {
    const opened = await open(server.url);
    opened.socket.write('POST /v1/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"org_id":');
    const after = await opened.closed;
    expect(opened.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(after).toBeGreaterThanOrEqual(900);
    expect(after).toBeLessThan(1000 + CHECK_INTERVAL_MS + SLACK_MS);
  });

  it('closes a connection that trickles its body a byte at a time, within the timeout', async () => {
    const opened = await open(server.url);
    opened.socket.write('POST /v1/apps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
    const trickle = setInterval(() => opened.socket.writable && opened.socket.write(' '), 100);
    try {
      expect(await opened.closed).toBeLessThan(1000 + CHECK_INTERVAL_MS + SLACK_MS);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes a connection whose headers stall, within the timeout', async () => {
    const opened = await open(server.url);
    opened.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(await opened.closed).toBeLessThan(1000 + CHECK_INTERVAL_MS + SLACK_MS);
  });

  it('announces the 5-second keep-alive timeout that the drain on SIGTERM relies on', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.headers.get('keep-alive')).toBe('timeout=5');
  });
});

describe('a server with SCOPE_AUTH_MAX_CONNECTIONS=2', () => {
  let server: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    server = await startTestServer({ env: { SCOPE_AUTH_MAX_CONNECTIONS: '2' }, logger });
  });
  afterAll(async () => server?.close());

  it('refuses a third connection at once, serves again once one closes, and counts and logs the refusal', async () => {
    const first = await open(server.url);
    const second = await open(server.url);
    // The server has accepted both once it answers on them.
    first.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    second.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => first.received() + second.received()).toMatch(/200 OK[\s\S]*200 OK/);

    const third = await open(server.url);
    third.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await third.closed).toBeLessThan(2000);
    expect(third.received()).toBe('');

    first.socket.end();
    await first.closed;
    const metrics = await get(server.url, '/metrics');
    expect(metrics).toMatch(/^HTTP\/1\.1 200 /);
    expect(metrics).toMatch(/^scope_auth_connections_dropped_total 1$/m);
    second.socket.end();
    await expect.poll(() => lines.map((line) => JSON.parse(line) as { msg: string; dropped?: number }), { timeout: 3000 }).toContainEqual(
      expect.objectContaining({ msg: 'connections refused: SCOPE_AUTH_MAX_CONNECTIONS are open', dropped: 1 }),
    );
  });
});

describe('SCOPE_AUTH_TRUST_PROXY=true', () => {
  it('is warned about at startup, with the safer settings named', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const server = await startTestServer({ env: { SCOPE_AUTH_TRUST_PROXY: 'true' }, logger });
    await server.close();
    const warnings = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).filter((line) => line.level === 40);
    expect(warnings).toEqual([expect.objectContaining({ msg: expect.stringMatching(/^SCOPE_AUTH_TRUST_PROXY=true .* any client can write it.* number of proxies .* addresses or subnets instead$/) })]);
  });

  it('is not warned about for a hop count or a list of proxies', async () => {
    for (const trust of ['1', 'loopback, 10.0.0.0/8']) {
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
      const server = await startTestServer({ env: { SCOPE_AUTH_TRUST_PROXY: trust }, logger });
      await server.close();
      expect(lines, trust).toEqual([]);
    }
  });
});
