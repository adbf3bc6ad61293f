import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { createArgon2Queue } from '../../src/domain/argon2-queue.js';
import type { SecretHasher } from '../../src/domain/hashing.js';
import type { Metrics } from '../../src/http/metrics.js';
import { createTestContext, type TestContext, type TestCredentials } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

/** A task that finishes when told to. */
function deferredTask<T>(value: T) {
  let finish!: () => void;
  let started = false;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    task: async () => {
      started = true;
      await done;
      return value;
    },
    finish,
    get started() {
      return started;
    },
  };
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the argon2 queue', () => {
  it('runs at most `concurrency` tasks at once and the rest in arrival order', async () => {
    const queue = createArgon2Queue({ concurrency: 2, limit: 10 });
    const tasks = [1, 2, 3, 4].map((n) => deferredTask(n));
    const results = tasks.map((t) => queue.run(t.task));
    await settle();
    expect(tasks.map((t) => t.started)).toEqual([true, true, false, false]);
    expect([queue.active, queue.waiting]).toEqual([2, 2]);

    tasks[1]!.finish();
    await settle();
    expect(tasks.map((t) => t.started)).toEqual([true, true, true, false]);
    expect([queue.active, queue.waiting]).toEqual([2, 1]);

    tasks.forEach((t) => t.finish());
    expect(await Promise.all(results)).toEqual([1, 2, 3, 4]);
    expect([queue.active, queue.waiting]).toEqual([0, 0]);
  });

  it('refuses at once when `limit` tasks are already waiting, and accepts again once one moved on', async () => {
    const queue = createArgon2Queue({ concurrency: 1, limit: 2 });
    const tasks = [1, 2, 3].map((n) => deferredTask(n));
    const accepted = tasks.map((t) => queue.run(t.task));
    expect(accepted.every((p) => p !== null)).toBe(true);
    const refused = deferredTask(4);
    expect(queue.run(refused.task)).toBeNull();
    expect(refused.started).toBe(false);

    tasks[0]!.finish();
    await settle();
    const later = deferredTask(5);
    const laterResult = queue.run(later.task);
    expect(laterResult).not.toBeNull();
    [...tasks, later].forEach((t) => t.finish());
    expect(await Promise.all([...accepted, laterResult])).toEqual([1, 2, 3, 5]);
  });

  it('lets nothing wait with a limit of 0', () => {
    const queue = createArgon2Queue({ concurrency: 1, limit: 0 });
    const first = deferredTask(1);
    expect(queue.run(first.task)).not.toBeNull();
    expect(queue.run(deferredTask(2).task)).toBeNull();
    first.finish();
  });

  it('reports the number of waiting tasks whenever it changes', async () => {
    const depths: number[] = [];
    const queue = createArgon2Queue({ concurrency: 1, limit: 5, onDepth: (n) => depths.push(n) });
    const tasks = [1, 2, 3].map((n) => deferredTask(n));
    const results = tasks.map((t) => queue.run(t.task));
    tasks.forEach((t) => t.finish());
    await Promise.all(results);
    expect(depths).toEqual([1, 2, 1, 0]);
  });

  it('frees the slot of a task that fails', async () => {
    const queue = createArgon2Queue({ concurrency: 1, limit: 1 });
    const failing = queue.run(async () => {
      throw new Error('boom');
    });
    const next = queue.run(async () => 'next');
    await expect(failing).rejects.toThrow('boom');
    expect(await next).toBe('next');
    expect([queue.active, queue.waiting]).toEqual([0, 0]);
  });

  it('suggests retrying after the time the queued work needs, never sooner than 1 second', () => {
    const queue = createArgon2Queue({ concurrency: 1, limit: 200 });
    expect(queue.retryAfterSeconds()).toBe(1);
    const tasks = Array.from({ length: 101 }, (_, n) => deferredTask(n));
    tasks.forEach((t) => queue.run(t.task));
    // 101 verifications of the initial 50 ms estimate, one at a time.
    expect(queue.retryAfterSeconds()).toBe(6);
    tasks.forEach((t) => t.finish());
  });

  it('refuses a concurrency below 1 and a negative limit', () => {
    expect(() => createArgon2Queue({ concurrency: 0, limit: 1 })).toThrow(RangeError);
    expect(() => createArgon2Queue({ concurrency: 1, limit: -1 })).toThrow(RangeError);
  });
});

/** The real hasher, whose verifications wait while the gate is held. */
function gatedHasher(real: SecretHasher) {
  let gate: Promise<void> | null = null;
  let release = () => {};
  const hasher: SecretHasher = {
    hash: (secret) => real.hash(secret),
    verify: async (hash, secret) => {
      if (gate) await gate;
      return real.verify(hash, secret);
    },
  };
  return {
    hasher,
    hold() {
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    open() {
      gate = null;
      release();
    },
  };
}

/** The app's metrics, also resolving `untilDepth(n)` when the argon2 queue reaches n waiting. */
function watchedMetrics(metrics: Metrics) {
  const watchers: Array<{ depth: number; resolve: () => void }> = [];
  return {
    metrics: {
      ...metrics,
      argon2QueueDepth(waiting: number) {
        metrics.argon2QueueDepth(waiting);
        for (const w of watchers.filter((w) => w.depth === waiting)) w.resolve();
      },
    } satisfies Metrics,
    untilDepth: (depth: number) => new Promise<void>((resolve) => watchers.push({ depth, resolve })),
  };
}

describe.each(DIALECTS)('token exchange when the argon2 queue is full on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let app: App;
    let gate: ReturnType<typeof gatedHasher>;
    let watched: ReturnType<typeof watchedMetrics>;
    let clients: Array<TestCredentials & { appId: string }>;

    beforeAll(async () => {
      ctx = await createTestContext({
        dialect: dialectCase.dialect,
        env: { SCOPE_AUTH_ARGON2_CONCURRENCY: '1', SCOPE_AUTH_ARGON2_QUEUE_LIMIT: '1', SCOPE_AUTH_THROTTLE_KEY_FAILURES: '1' },
      });
    });
    afterAll(async () => ctx?.close());

    beforeEach(async () => {
      gate = gatedHasher(ctx.deps.hasher);
      watched = watchedMetrics(ctx.deps.metrics);
      gate.hold();
      app = createApp({ ...ctx.deps, hasher: gate.hasher, metrics: watched.metrics });
      clients = [];
      for (let i = 0; i < 3; i++) clients.push(await ctx.createClient(['tools:deploy']));
    });

    const exchange = (c: TestCredentials) => request(app).post('/v1/token').send({ org_id: c.orgId, key_id: c.keyId, secret: c.secret });

    /** One verification running and one waiting: the queue is at its limit. */
    async function fillQueue() {
      const waiting = watched.untilDepth(1);
      const running = [exchange(clients[0]!).then((res) => res), exchange(clients[1]!).then((res) => res)];
      await waiting;
      return running;
    }

    it('answers 503 temporarily_unavailable with Retry-After at once, then serves the queued exchanges', async () => {
      const running = await fillQueue();
      const refused = await exchange(clients[2]!);
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      expect(refused.headers['cache-control']).toBe('no-store');
      expect(refused.body).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'the server is busy verifying other credentials; retry later',
      });

      gate.open();
      expect((await Promise.all(running)).map((res) => res.status)).toEqual([200, 200]);
    });

    it('answers the OAuth token endpoint the same way', async () => {
      const running = await fillQueue();
      const c = clients[2]!;
      const refused = await request(app)
        .post('/oauth2/token')
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: c.keyId, client_secret: c.secret });
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      expect(refused.body.error).toBe('temporarily_unavailable');
      gate.open();
      await Promise.all(running);
    });

    it('does not hold the refusal against the client: no throttling, no audit event, and the retry succeeds', async () => {
      const running = await fillQueue();
      const c = clients[2]!;
      await exchange(c).expect(503);
      gate.open();
      await Promise.all(running);
      // One failure per key would already throttle (SCOPE_AUTH_THROTTLE_KEY_FAILURES=1).
      await exchange(c).expect(200);
      const events = await ctx.db.selectFrom('audit_events').select('id').where('target_id', '=', c.keyId).execute();
      expect(events).toEqual([]);
    });

    it('still serves a client whose secret is already verified while the queue is full', async () => {
      const c = clients[2]!;
      gate.open();
      await exchange(c).expect(200);
      gate.hold();
      const running = await fillQueue();
      await exchange(c).expect(200);
      gate.open();
      await Promise.all(running);
    });

    it('counts refusals as unavailable and shows the queue depth in the metrics', async () => {
      const running = await fillQueue();
      const depth = await ctx.deps.metrics.registry.getSingleMetricAsString('scope_auth_argon2_queue_depth');
      expect(depth).toMatch(/^scope_auth_argon2_queue_depth 1$/m);
      await exchange(clients[2]!).expect(503);
      gate.open();
      await Promise.all(running);
      const text = await ctx.deps.metrics.registry.metrics();
      expect(text).toMatch(/scope_auth_token_exchanges_total\{outcome="unavailable"\} [1-9]/);
      expect(text).toMatch(/^scope_auth_argon2_queue_depth 0$/m);
    });
  });
});
