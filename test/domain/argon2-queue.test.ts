import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { createArgon2Queue } from '../../src/domain/argon2-queue.js';
import type { SecretHasher } from '../../src/domain/hashing.js';
import type { Metrics } from '../../src/http/metrics.js';
import { createTestContext, type TestContext, type TestCredentials } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

/** A task that finishes when told to. */
function deferredTask<T>(value: T, onStart?: () => void) {
  let finish!: () => void;
  let started = false;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    task: async () => {
      started = true;
      onStart?.();
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

const ran = <T>(value: T) => ({ ran: true, value });
const NOT_RUN = { ran: false };

/** A queue whose tasks are named `source:n`, record the order they start in, and finish when told to. */
function tracedQueue(options: { concurrency: number; limit: number }) {
  const queue = createArgon2Queue(options);
  const starts: string[] = [];
  const running = new Map<string, () => void>();
  return {
    queue,
    starts,
    submit(source: string, n: number) {
      const name = `${source}:${n}`;
      const t = deferredTask(name, () => starts.push(name));
      running.set(name, t.finish);
      return queue.run(source, t.task);
    },
    /** Finishes the oldest started task that is still running, and lets the next one start. */
    async finishOne() {
      const name = starts.find((s) => running.has(s))!;
      running.get(name)!();
      running.delete(name);
      await settle();
    },
    finishAll() {
      for (const finish of running.values()) finish();
      running.clear();
    },
  };
}

describe('the argon2 queue', () => {
  it('runs at most `concurrency` tasks at once and the rest in arrival order', async () => {
    const queue = createArgon2Queue({ concurrency: 2, limit: 10 });
    const tasks = [1, 2, 3, 4].map((n) => deferredTask(n));
    const results = tasks.map((t) => queue.run('10.0.0.1', t.task));
    await settle();
    expect(tasks.map((t) => t.started)).toEqual([true, true, false, false]);
    expect([queue.active, queue.waiting]).toEqual([2, 2]);

    tasks[1]!.finish();
    await settle();
    expect(tasks.map((t) => t.started)).toEqual([true, true, true, false]);
    expect([queue.active, queue.waiting]).toEqual([2, 1]);

    tasks.forEach((t) => t.finish());
    expect(await Promise.all(results)).toEqual([1, 2, 3, 4].map(ran));
    expect([queue.active, queue.waiting]).toEqual([0, 0]);
  });

  it('refuses at once when `limit` tasks are already waiting, and accepts again once one moved on', async () => {
    const queue = createArgon2Queue({ concurrency: 1, limit: 2 });
    const tasks = [1, 2, 3].map((n) => deferredTask(n));
    const accepted = tasks.map((t) => queue.run('10.0.0.1', t.task));
    expect(queue.admits('10.0.0.1')).toBe(false);
    const refused = deferredTask(4);
    expect(await queue.run('10.0.0.1', refused.task)).toEqual(NOT_RUN);
    expect(refused.started).toBe(false);

    tasks[0]!.finish();
    await settle();
    expect(queue.admits('10.0.0.1')).toBe(true);
    const later = deferredTask(5);
    const laterResult = queue.run('10.0.0.1', later.task);
    [...tasks, later].forEach((t) => t.finish());
    expect(await Promise.all([...accepted, laterResult])).toEqual([1, 2, 3, 5].map(ran));
  });

  it('lets nothing wait with a limit of 0', async () => {
    const queue = createArgon2Queue({ concurrency: 1, limit: 0 });
    const first = deferredTask(1);
    const running = queue.run('10.0.0.1', first.task);
    expect(queue.admits('10.0.0.2')).toBe(false);
    expect(await queue.run('10.0.0.2', deferredTask(2).task)).toEqual(NOT_RUN);
    first.finish();
    expect(await running).toEqual(ran(1));
  });

  it('reports the number of waiting tasks whenever it changes', async () => {
    const depths: number[] = [];
    const queue = createArgon2Queue({ concurrency: 1, limit: 5, onDepth: (n) => depths.push(n) });
    const tasks = [1, 2, 3].map((n) => deferredTask(n));
    const results = tasks.map((t) => queue.run('10.0.0.1', t.task));
    tasks.forEach((t) => t.finish());
    await Promise.all(results);
    expect(depths).toEqual([1, 2, 1, 0]);
  });

  it('frees the slot of a task that fails', async () => {
    const queue = createArgon2Queue({ concurrency: 1, limit: 1 });
    const failing = queue.run('10.0.0.1', async () => {
      throw new Error('boom');
    });
    const next = queue.run('10.0.0.1', async () => 'next');
    await expect(failing).rejects.toThrow('boom');
    expect(await next).toEqual(ran('next'));
    expect([queue.active, queue.waiting]).toEqual([0, 0]);
  });

  it('suggests retrying after the time the queued work needs, never sooner than 1 second', () => {
    const queue = createArgon2Queue({ concurrency: 1, limit: 200 });
    expect(queue.retryAfterSeconds()).toBe(1);
    const tasks = Array.from({ length: 101 }, (_, n) => deferredTask(n));
    tasks.forEach((t) => queue.run('10.0.0.1', t.task));
    // 101 verifications of the initial 50 ms estimate, one at a time.
    expect(queue.retryAfterSeconds()).toBe(6);
    tasks.forEach((t) => t.finish());
  });

  it('refuses a concurrency below 1 and a negative limit', () => {
    expect(() => createArgon2Queue({ concurrency: 0, limit: 1 })).toThrow(RangeError);
    expect(() => createArgon2Queue({ concurrency: 1, limit: -1 })).toThrow(RangeError);
  });
});

describe('the argon2 queue shared among sources', () => {
  it('serves waiting tasks one source at a time in turn, and each source\'s own in arrival order', async () => {
    const q = tracedQueue({ concurrency: 1, limit: 20 });
    const results = [q.submit('a', 0), q.submit('a', 1), q.submit('a', 2), q.submit('b', 1), q.submit('b', 2), q.submit('c', 1), q.submit('a', 3)];
    for (let i = 0; i < 6; i++) await q.finishOne();
    expect(q.starts).toEqual(['a:0', 'a:1', 'b:1', 'c:1', 'a:2', 'b:2', 'a:3']);
    q.finishAll();
    expect((await Promise.all(results)).every((r) => r.ran)).toBe(true);
  });

  it('starts a task from a new source within one round, however many a few hostile sources keep waiting', async () => {
    const q = tracedQueue({ concurrency: 1, limit: 30 });
    const hostile = ['h1', 'h2', 'h3'];
    const results = [q.submit('h1', 0)];
    for (let n = 1; n <= 10; n++) for (const h of hostile) results.push(q.submit(h, n));
    expect(q.queue.waiting).toBe(30);
    const newcomer = q.submit('newcomer', 1);
    // One verification of each hostile source at most (the running one first), then the newcomer's.
    for (let i = 0; i < 4; i++) await q.finishOne();
    expect(q.starts.indexOf('newcomer:1')).toBeGreaterThan(0);
    expect(q.starts.indexOf('newcomer:1')).toBeLessThanOrEqual(hostile.length + 1);
    q.finishAll();
    expect(await newcomer).toEqual(ran('newcomer:1'));
    await Promise.all(results);
  });

  it('makes room in a full queue by pushing out the newest task of the source holding the most, which is never run', async () => {
    const q = tracedQueue({ concurrency: 1, limit: 4 });
    const results = [q.submit('a', 0), q.submit('a', 1), q.submit('a', 2), q.submit('a', 3), q.submit('b', 1)];
    expect(q.queue.admits('c')).toBe(true);
    results.push(q.submit('c', 1));
    expect(await results[3]).toEqual(NOT_RUN);
    expect(q.queue.waiting).toBe(4);
    for (let i = 0; i < 4; i++) await q.finishOne();
    expect(q.starts).toEqual(['a:0', 'a:1', 'b:1', 'c:1', 'a:2']);
    q.finishAll();
    expect(await Promise.all(results)).toEqual([ran('a:0'), ran('a:1'), ran('a:2'), NOT_RUN, ran('b:1'), ran('c:1')]);
  });

  it('refuses at once a source over its share of a full queue: one holding as many as the largest, or one fewer', async () => {
    const q = tracedQueue({ concurrency: 1, limit: 4 });
    const results = [q.submit('a', 0), q.submit('a', 1), q.submit('a', 2), q.submit('b', 1), q.submit('c', 1)];
    // Full: a holds 2, b and c 1 each; taking one of a's would only move the imbalance to b.
    expect(q.queue.waiting).toBe(4);
    expect(q.queue.admits('a')).toBe(false);
    expect(q.queue.admits('b')).toBe(false);
    expect(await q.submit('a', 3)).toEqual(NOT_RUN);
    expect(await q.submit('b', 2)).toEqual(NOT_RUN);
    // A source holding none is two below a's share: it gets a's newest slot.
    expect(q.queue.admits('d')).toBe(true);
    results.push(q.submit('d', 1));
    expect(await results[2]).toEqual(NOT_RUN);
    q.finishAll();
    await Promise.all(results);
    expect(q.starts).toEqual(['a:0', 'a:1', 'b:1', 'c:1', 'd:1']);
  });

  it('never lets more than `limit` wait, and refuses a newcomer when every waiting slot is a different source\'s', async () => {
    const q = tracedQueue({ concurrency: 1, limit: 8 });
    const results = [q.submit('s0', 0)];
    for (let round = 1; round <= 3; round++) {
      for (let s = 0; s < 8; s++) {
        results.push(q.submit(`s${s}`, round));
        expect(q.queue.waiting).toBeLessThanOrEqual(8);
      }
    }
    expect(q.queue.waiting).toBe(8);
    expect(q.queue.admits('newcomer')).toBe(false);
    expect(await q.submit('newcomer', 1)).toEqual(NOT_RUN);
    q.finishAll();
    expect((await Promise.all(results)).filter((r) => r.ran)).toHaveLength(9);
    // One each: the shares evened out to one slot for each of the eight sources.
    expect(q.starts.slice(1).map((name) => name.split(':')[0]).sort()).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7']);
  });

  it('lets a lone source use every waiting slot while nobody else waits', async () => {
    const q = tracedQueue({ concurrency: 2, limit: 10 });
    const results = Array.from({ length: 12 }, (_, n) => q.submit('fleet', n));
    expect([q.queue.active, q.queue.waiting]).toEqual([2, 10]);
    expect(await q.submit('fleet', 12)).toEqual(NOT_RUN);
    q.finishAll();
    expect((await Promise.all(results)).every((r) => r.ran)).toBe(true);
  });

  it('expects a task to take one verification when a slot is free, and longer the more sources wait ahead of it', async () => {
    const q = tracedQueue({ concurrency: 2, limit: 20 });
    const queue = q.queue;
    expect(queue.expectedSeconds('x')).toBeCloseTo(0.05);
    const results = [q.submit('a', 0), q.submit('a', 1)];
    expect(queue.expectedSeconds('x')).toBeCloseTo(0.05);
    for (const s of ['b', 'c', 'd', 'e']) results.push(q.submit(s, 1), q.submit(s, 2));
    // Four sources wait with two each: a newcomer waits for one of each, two at a time.
    expect(queue.expectedSeconds('x')).toBeCloseTo(0.05 * (1 + 4 / 2));
    // b's next waits for two turns of each.
    expect(queue.expectedSeconds('b')).toBeCloseTo(0.05 * (1 + 8 / 2));
    q.finishAll();
    await Promise.all(results);
  });

  it('expects the median duration of the recent verifications, which a few slow ones do not move', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'performance'] });
    try {
      const queue = createArgon2Queue({ concurrency: 1, limit: 1 });
      for (const ms of [20, 20, 400, 20, 20, 20, 400, 20, 20]) {
        const done = queue.run('a', () => new Promise((resolve) => setTimeout(resolve, ms)));
        await vi.advanceTimersByTimeAsync(ms);
        await done;
      }
      expect(queue.expectedSeconds('x')).toBeCloseTo(0.02, 3);
    } finally {
      vi.useRealTimers();
    }
  });

  it('starts from the initial estimate it is given', () => {
    const queue = createArgon2Queue({ concurrency: 1, limit: 1, initialEstimateSeconds: 0.02 });
    expect(queue.expectedSeconds('x')).toBeCloseTo(0.02);
  });
});

/** The real hasher, whose verifications wait while the gate is held; `started` lists the secrets in the order their verifications began. */
function gatedHasher(real: SecretHasher) {
  let gate: Promise<void> | null = null;
  let release = () => {};
  const started: string[] = [];
  const hasher: SecretHasher = {
    hash: (secret) => real.hash(secret),
    verify: async (hash, secret) => {
      started.push(secret);
      if (gate) await gate;
      return real.verify(hash, secret);
    },
  };
  return {
    hasher,
    started,
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

    it('answers an unknown key and a key claimed for another org 503 as well, as it would a wrong secret', async () => {
      const other = await ctx.createOrg('elsewhere');
      const running = await fillQueue();
      const c = clients[2]!;
      for (const attempt of [{ ...c, keyId: 'key_01JA0000000000000000000000' }, { ...c, orgId: other.org.id }]) {
        const refused = await exchange(attempt);
        expect(refused.status).toBe(503);
        expect(refused.headers['retry-after']).toMatch(/^[1-9]\d*$/);
        expect(refused.body.error).toBe('temporarily_unavailable');
      }
      gate.open();
      await Promise.all(running);
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

describe.each(DIALECTS)('token exchange when one address fills the argon2 queue on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;

    beforeAll(async () => {
      ctx = await createTestContext({
        dialect: dialectCase.dialect,
        env: { SCOPE_AUTH_ARGON2_CONCURRENCY: '1', SCOPE_AUTH_ARGON2_QUEUE_LIMIT: '2', SCOPE_AUTH_TRUST_PROXY: 'true' },
      });
    });
    afterAll(async () => ctx?.close());

    it('serves a client from another address next, and answers the flooding address\'s newest exchange 503', async () => {
      const gate = gatedHasher(ctx.deps.hasher);
      const watched = watchedMetrics(ctx.deps.metrics);
      const app = createApp({ ...ctx.deps, hasher: gate.hasher, metrics: watched.metrics });
      const clients: TestCredentials[] = [];
      for (let i = 0; i < 4; i++) clients.push(await ctx.createClient(['tools:deploy']));
      const from = (ip: string, c: TestCredentials) =>
        request(app).post('/v1/token').set('x-forwarded-for', ip).send({ org_id: c.orgId, key_id: c.keyId, secret: c.secret }).then((res) => res);

      gate.hold();
      const full = watched.untilDepth(2);
      const flood = clients.slice(0, 3).map((c) => from('10.9.0.1', c));
      await full;
      const newcomer = from('10.9.0.2', clients[3]!);
      // The newcomer took the flooding address's newest slot: that exchange is answered at once.
      const pushedOut = await Promise.race(flood);
      expect(pushedOut.status).toBe(503);
      expect(pushedOut.body.error).toBe('temporarily_unavailable');

      gate.open();
      expect((await newcomer).status).toBe(200);
      expect((await Promise.all(flood)).map((res) => res.status).sort()).toEqual([200, 200, 503]);
      // One of the flood running, one of it waiting ahead, then the newcomer's.
      expect(gate.started.indexOf(clients[3]!.secret)).toBe(2);
    });
  });
});
