// A small HTTP load balancer on loopback, as a team would put in front of several instances:
// each request goes to the next backend in turn; a backend that refuses the connection (it is
// stopped or restarting), or resets a reused keep-alive connection before answering, is
// skipped and the request is sent to the next one — what nginx's `proxy_next_upstream error`
// does. Bodies are buffered, so a retried request is sent whole.
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';

export interface RoundRobinProxy {
  readonly url: string;
  /** Connections refused (the request was sent to the next backend) and reset (answered 502). */
  readonly failures: { readonly refused: number; readonly reset: number };
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export async function startRoundRobinProxy(backends: readonly string[], options: { attempts?: number } = {}): Promise<RoundRobinProxy> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const attempts = options.attempts ?? backends.length * 2;
  let next = 0;
  const failures = { refused: 0, reset: 0 };

  // Only a refused connection is sent elsewhere (the backend is down; nothing reached it).
  // Anything else, a reset keep-alive connection included, is answered 502 and counted, so a
  // server that closes a connection under a request shows in the test's figures.
  const isRetryable = (error: unknown) => (error as { code?: string }).code === 'ECONNREFUSED';

  function forward(backend: string, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Upstream> {
    return new Promise((resolve, reject) => {
      const upstream = request(new URL(path, backend), { method, headers: { ...endToEnd(headers), 'content-length': String(body.length) }, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      upstream.on('error', (error) => reject(Object.assign(error, { reusedSocket: upstream.reusedSocket })));
      upstream.end(body);
    });
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      let lastError: unknown;
      // In turn across requests; within one request, each backend after the one that failed.
      const first = next++;
      for (let attempt = 0; attempt < attempts; attempt++) {
        const backend = backends[(first + attempt) % backends.length]!;
        try {
          const answer = await forward(backend, req.method ?? 'GET', req.url ?? '/', req.headers, body);
          res.writeHead(answer.status, endToEnd(answer.headers));
          res.end(answer.body);
          return;
        } catch (error) {
          lastError = error;
          if ((error as { code?: string }).code === 'ECONNRESET') failures.reset++;
          if (!isRetryable(error)) break;
          failures.refused++;
        }
      }
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`no backend answered: ${(lastError as Error)?.message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy did not listen');
  return {
    url: `http://127.0.0.1:${address.port}`,
    get failures() {
      return { ...failures };
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
