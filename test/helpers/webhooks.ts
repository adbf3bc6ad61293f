// Webhooks in tests: a real HTTP receiver on 127.0.0.1 that records what it is sent and
// answers as told, a deliverer of a test context with the tests' seams (resolver, time limit,
// no jitter), and the library's verifier run at the time the test clock says.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, vi } from 'vitest';
import { createDeliverer, createWebhookDeliverer, type DelivererOptions } from '../../src/domain/webhook-deliverer.js';
import type { TestContext } from './context.js';

/** What tests set so a receiver on 127.0.0.1 over http may be registered and reached. */
export const LOOPBACK_ENV = { SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP: 'true' } as const;

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How the receiver answers one request: a status and body, or `hang` (never answers). */
export type Answer = { status: number; body?: string } | 'hang';

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Answers to give, in order; once used up, 200 `ok`. */
  answer(...answers: Answer[]): void;
  /** Stops listening (again: nothing). */
  close(): Promise<void>;
}

export async function startReceiver(path = '/hooks'): Promise<Receiver> {
  const received: Received[] = [];
  let answers: Answer[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.shift() ?? { status: 200, body: 'ok' };
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body ?? '');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    received,
    answer: (...next) => {
      answers = next;
    },
    async close() {
      if (!server.listening) return;
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * A receiver started before each test of the suite and closed after it, the outbox and the
 * webhooks then deleted so nothing is left due for the next test's deliverer.
 */
export function receiverPerTest(getCtx: () => TestContext): () => Receiver {
  let receiver: Receiver | undefined;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver?.close();
    await clearWebhooks(getCtx());
  });
  return () => receiver!;
}

/** Deletes every webhook and delivery of the context's database: each test starts with none. */
export async function clearWebhooks(ctx: TestContext): Promise<void> {
  await ctx.db.deleteFrom('webhook_deliveries').execute();
  await ctx.db.deleteFrom('webhooks').execute();
}

/** A deliverer on the context's database and clock; no jitter unless `random` is given. */
export function testDeliverer(ctx: TestContext, options: DelivererOptions = {}) {
  return createDeliverer({ ...ctx.deps, kek: ctx.deps.people.kek }, { random: () => 0.5, ...options });
}

/** The periodic job itself, as the server registers it, under a holder name of its own. */
export function testDelivererJob(ctx: TestContext, options: DelivererOptions = {}) {
  return createWebhookDeliverer({ ...ctx.deps, kek: ctx.deps.people.kek }, { random: () => 0.5, ...options });
}

/** `new Webhook(secret).verify(body, headers)` at the test clock's time (the library checks the timestamp against now). */
export function verifyAt(nowMs: number, secret: string, message: Received): unknown {
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    vi.setSystemTime(nowMs);
    return new Webhook(secret).verify(message.body, message.headers as Record<string, string>);
  } finally {
    vi.useRealTimers();
  }
}

/** POST /v1/webhooks as `token`; the 201's body. */
export async function registerWebhook(ctx: TestContext, token: string, body: { url: string; events: string[]; description?: string }) {
  const res = await request(ctx.app).post('/v1/webhooks').set('Authorization', `Bearer ${token}`).send(body);
  if (res.status !== 201) throw new Error(`registering the webhook failed with ${res.status}: ${res.text}`);
  return res.body as { webhook: { id: string; url: string; events: string[] }; secret: string };
}

/** The stored deliveries of a webhook, oldest first. */
export function deliveryRows(ctx: TestContext, webhookId: string) {
  return ctx.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).orderBy('id').execute();
}
