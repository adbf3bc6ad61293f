// The brute-force throttle as a caller meets it: guesses are counted before argon2 checks
// them, so a burst gets no more checked than the limit; clients whose secret is right are not
// counted; IPv6 clients are counted by their /64.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { databaseCounters } from '../../src/domain/counter-stores.js';
import { createThrottle } from '../../src/domain/throttle.js';
import { createServices } from '../../src/services.js';
import type { TestCredentials } from '../helpers/context.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { QueryCounter } from '../helpers/query-counter.js';
import { DIALECTS, dialectTitle, openTestDatabase } from '../helpers/db.js';
import { countedInstance, tally, type CountedInstance } from '../helpers/throttle.js';
import { testLogger } from '../helpers/test-logger.js';

describe.each(DIALECTS)('token exchange throttling on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let instance: CountedInstance;
    beforeAll(async () => {
      ctx = await createTestContext({
        dialect: dialectCase.dialect,
        // The default limits (10 per key, 100 per address); a queue long enough that only the throttle refuses.
        env: { SCOPE_AUTH_TRUST_PROXY: 'true', SCOPE_AUTH_ARGON2_QUEUE_LIMIT: '10000' },
      });
    });
    afterAll(async () => ctx?.close());

    async function withInstance(test: () => Promise<void>) {
      instance = await countedInstance(ctx.deps);
      try {
        await test();
      } finally {
        await instance.close();
      }
    }

    const wrongSecretFor = async (client: TestCredentials) => ({ ...client, secret: (await ctx.createClient(['tools:deploy'])).secret });

    async function refusalReasons(keyId: string): Promise<string[]> {
      const events = await ctx.db.selectFrom('audit_events').select('details').where('target_id', '=', keyId).execute();
      return events.map((e) => (JSON.parse(e.details) as { reason: string }).reason);
    }

    it('checks only 10 of 60 simultaneous wrong secrets for one key from one address, and refuses the rest with 429', () =>
      withInstance(async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const wrong = await wrongSecretFor(client);
        const results = await Promise.all(Array.from({ length: 60 }, () => instance.exchange('10.20.0.1', wrong)));

        expect(instance.verifications()).toBe(10);
        expect(tally(results)).toEqual({ 401: 10, 429: 50 });
        for (const r of results.filter((r) => r.status === 429)) expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
        const reasons = await refusalReasons(client.keyId);
        expect(reasons.filter((r) => r === 'wrong_secret')).toHaveLength(10);
        expect(reasons.filter((r) => r === 'throttled')).toHaveLength(1);
        // The failures are counted: the address is now blocked for that key, right secret or not.
        expect((await instance.exchange('10.20.0.1', client)).status).toBe(429);
        expect((await instance.exchange('10.20.0.2', client)).status).toBe(200);
      }));

    it('checks only 100 of 300 simultaneous wrong secrets from one address spread over many keys', () =>
      withInstance(async () => {
        const clients = await Promise.all(Array.from({ length: 60 }, () => ctx.createClient(['tools:deploy'])));
        const wrong = clients.map((c, i) => ({ ...c, secret: clients[(i + 1) % clients.length]!.secret }));
        const results = await Promise.all(Array.from({ length: 300 }, (_, i) => instance.exchange('10.21.0.1', wrong[i % wrong.length]!)));

        expect(instance.verifications()).toBe(100);
        expect(tally(results)).toEqual({ 401: 100, 429: 200 });
        expect((await instance.exchange('10.21.0.1', clients[0]!)).status).toBe(429);
      }));

    it('does not count clients whose secret is right: after many cold exchanges a wrong secret is still checked', async () => {
      const cold = await createTestContext({
        dialect: dialectCase.dialect,
        env: { SCOPE_AUTH_TRUST_PROXY: 'true', SCOPE_AUTH_VERIFIED_CACHE_SIZE: '0', SCOPE_AUTH_THROTTLE_KEY_FAILURES: '3' },
      });
      const coldInstance = await countedInstance(cold.deps);
      try {
        const client = await cold.createClient(['tools:deploy']);
        const wrong = { ...client, secret: (await cold.createClient(['tools:deploy'])).secret };
        for (let i = 0; i < 10; i++) expect((await coldInstance.exchange('10.22.0.1', client)).status).toBe(200);
        // A burst of them at once: no more than three checked at a time, the others asked to
        // retry in a second rather than blocked for the minute.
        const burst = await Promise.all(Array.from({ length: 12 }, () => coldInstance.exchange('10.22.0.1', client)));
        expect(burst.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(3);
        expect(burst.filter((r) => r.status !== 200)).toEqual(burst.filter((r) => r.status === 429 && r.retryAfter === '1'));
        const checked = coldInstance.verifications();
        expect(checked).toBe(10 + burst.filter((r) => r.status === 200).length);
        // The full limit of failures is left.
        for (let i = 0; i < 3; i++) expect((await coldInstance.exchange('10.22.0.1', wrong)).status).toBe(401);
        expect(coldInstance.verifications()).toBe(checked + 3);
        expect((await coldInstance.exchange('10.22.0.1', wrong)).status).toBe(429);
      } finally {
        await coldInstance.close();
        await cold.close();
      }
    });

    it('counts every address of one IPv6 /64 as one client, and another /64 apart', () =>
      withInstance(async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const wrong = await wrongSecretFor(client);
        for (let i = 1; i <= 10; i++) expect((await instance.exchange(`2001:db8:aa:1::${i.toString(16)}`, wrong)).status).toBe(401);
        expect((await instance.exchange('2001:db8:aa:1:ffff:ffff:ffff:ffff', wrong)).status).toBe(429);
        expect((await instance.exchange('2001:db8:aa:1::99', client)).status).toBe(429);
        expect((await instance.exchange('2001:db8:aa:2::1', wrong)).status).toBe(401);
        expect((await instance.exchange('2001:db8:aa:2::1', client)).status).toBe(200);
        expect(instance.verifications()).toBe(12);
      }));

    it('counts unknown key ids against the address, so enumerating them runs into the per-address limit', () =>
      withInstance(async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const ghost = (i: number) => ({ ...client, keyId: `key_01JA0000000000000000000${String(i).padStart(3, '0')}` });
        const results = [];
        for (let i = 0; i < 100; i++) results.push(await instance.exchange('10.23.0.1', ghost(i)));
        expect(tally(results)).toEqual({ 401: 100 });
        expect((await instance.exchange('10.23.0.1', ghost(100))).status).toBe(429);
        expect((await instance.exchange('10.23.0.1', client)).status).toBe(429);
        expect(instance.verifications()).toBe(0);
      }));

    it('makes a warm exchange cost one query, the key read: the throttle does nothing for a secret already verified', async () => {
      const counter = new QueryCounter();
      const deps = await createServices(ctx.deps.config, { db: ctx.db.withPlugin(counter), kek: ctx.kek, logger: testLogger(), clock: ctx.clock });
      const counted = await countedInstance(deps);
      try {
        const client = await ctx.createClient(['tools:deploy']);
        counter.count = 0;
        expect((await counted.exchange('10.25.0.1', client)).status).toBe(200);
        const cold = counter.count;
        counter.count = 0;
        for (let i = 0; i < 5; i++) expect((await counted.exchange(`10.25.0.${i + 2}`, client)).status).toBe(200);
        expect(counter.count).toBe(5);
        // The cold one read the key and, on PostgreSQL, counted and gave back its attempt.
        expect(cold).toBe(dialectCase.dialect === 'postgres' ? 3 : 1);
      } finally {
        await counted.close();
        deps.throttle.stop();
        await deps.lastUsed.stop();
      }
    });

    it('answers an error, not a token, when the counters cannot be reached to count the attempt', async () => {
      const gone = await openTestDatabase(dialectCase.dialect);
      await gone.close();
      const logger = testLogger();
      const throttle = createThrottle({ limits: ctx.deps.config.throttle, clock: ctx.clock, logger, counters: databaseCounters(gone.handle.db) });
      const app = createApp({ ...ctx.deps, throttle });
      const client = await ctx.createClient(['tools:deploy']);
      const res = await request(app).post('/v1/token').send({ org_id: client.orgId, key_id: client.keyId, secret: client.secret });
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(res.body.access_token).toBeUndefined();
    });

    it('lets a blocked client try again once the minute has passed on the clock', () =>
      withInstance(async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const wrong = await wrongSecretFor(client);
        for (let i = 0; i < 10; i++) await instance.exchange('10.24.0.1', wrong);
        const blocked = await instance.exchange('10.24.0.1', client);
        expect(blocked).toEqual({ status: 429, retryAfter: '60' });
        ctx.clock.advance(30_000);
        expect(await instance.exchange('10.24.0.1', client)).toEqual({ status: 429, retryAfter: '30' });
        ctx.clock.advance(30_000);
        expect((await instance.exchange('10.24.0.1', wrong)).status).toBe(401);
        expect((await instance.exchange('10.24.0.1', client)).status).toBe(200);
      }));
  });
});
