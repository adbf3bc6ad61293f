// Two app instances on one PostgreSQL database (two connection pools, two throttles) are one
// deployment: the limits hold for both together, for guesses in turn and in bursts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDeps } from '../../src/app.js';
import { createServices } from '../../src/services.js';
import { createDatabase, type DatabaseHandle } from '../../src/store/database.js';
import { createTestContext, type TestContext, type TestCredentials } from '../helpers/context.js';
import { PG_URL } from '../helpers/db.js';
import { countedInstance, tally, type CountedInstance } from '../helpers/throttle.js';
import { testLogger } from '../helpers/test-logger.js';

const title = 'token exchange throttling across two instances on one PostgreSQL database';

describe.skipIf(!PG_URL)(PG_URL ? title : `${title} (skipped: set SCOPE_AUTH_TEST_DATABASE_URL)`, () => {
  let ctx: TestContext;
  let secondDb: DatabaseHandle;
  let secondDeps: AppDeps;
  let instances: [CountedInstance, CountedInstance];
  const verifications = () => instances[0].verifications() + instances[1].verifications();

  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'postgres', env: { SCOPE_AUTH_TRUST_PROXY: 'true', SCOPE_AUTH_ARGON2_QUEUE_LIMIT: '10000' } });
    secondDb = await createDatabase(ctx.database.url, { schema: ctx.database.schema! });
    secondDeps = await createServices(ctx.deps.config, { db: secondDb.db, kek: ctx.kek, logger: testLogger(), clock: ctx.clock });
    instances = [await countedInstance(ctx.deps), await countedInstance(secondDeps)];
  });
  afterAll(async () => {
    await Promise.all(instances?.map((i) => i.close()) ?? []);
    secondDeps?.keyring.stop();
    await secondDeps?.lastUsed.stop();
    await secondDb?.close();
    await ctx?.close();
  });

  const wrongSecretFor = async (client: TestCredentials) => ({ ...client, secret: (await ctx.createClient(['tools:deploy'])).secret });
  const counterRows = () => ctx.db.selectFrom('throttle_counters').select(['key', 'count', 'failures', 'ends_at']).orderBy('key').execute();

  it('allows 10 guesses for a key from an address in total when they alternate between the instances', async () => {
    const before = verifications();
    const client = await ctx.createClient(['tools:deploy']);
    const wrong = await wrongSecretFor(client);
    const statuses = [];
    for (let i = 0; i < 20; i++) statuses.push((await instances[i % 2]!.exchange('10.30.0.1', wrong)).status);
    expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(10).fill(429)]);
    expect(verifications() - before).toBe(10);
    for (const instance of instances) {
      expect((await instance.exchange('10.30.0.1', client)).status).toBe(429);
      expect((await instance.exchange('10.30.0.2', client)).status).toBe(200);
    }
  });

  it('checks only 10 of 60 simultaneous guesses for a key from an address spread over both instances', async () => {
    const before = verifications();
    const client = await ctx.createClient(['tools:deploy']);
    const wrong = await wrongSecretFor(client);
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => instances[i % 2]!.exchange('10.31.0.1', wrong)));
    expect(verifications() - before).toBe(10);
    expect(tally(results)).toEqual({ 401: 10, 429: 50 });
    for (const instance of instances) expect((await instance.exchange('10.31.0.1', client)).status).toBe(429);
  });

  it('allows 100 failures from an address over any keys in total on both instances', async () => {
    const client = await ctx.createClient(['tools:deploy']);
    const ghost = (i: number) => ({ ...client, keyId: `key_01JB0000000000000000000${String(i).padStart(3, '0')}` });
    const results = await Promise.all(Array.from({ length: 150 }, (_, i) => instances[i % 2]!.exchange('2001:db8:32::1', ghost(i))));
    expect(tally(results)).toEqual({ 401: 100, 429: 50 });
    // Another address of the same /64 is the same client.
    for (const instance of instances) expect((await instance.exchange('2001:db8:32::2', client)).status).toBe(429);
  });

  it('does no throttle work for a warm exchange: a client whose secret is already verified leaves no counter row', async () => {
    const client = await ctx.createClient(['tools:deploy']);
    for (const instance of instances) expect((await instance.exchange('10.33.0.1', client)).status).toBe(200);
    const afterCold = await counterRows();
    // The cold exchanges were counted and given back.
    expect(afterCold.filter((r) => r.key.includes('10.33.0.1'))).toEqual([
      { key: 'ip:10.33.0.1', count: 0, failures: 0, ends_at: expect.any(Number) },
      { key: `key:10.33.0.1|${client.keyId}`, count: 0, failures: 0, ends_at: expect.any(Number) },
    ]);
    for (let i = 0; i < 10; i++) {
      for (const instance of instances) expect((await instance.exchange(i % 2 ? '10.33.0.1' : '10.33.0.2', client)).status).toBe(200);
    }
    expect(await counterRows()).toEqual(afterCold);
  });

  it('lifts every block for both instances once the minute has passed, and sweeps the rows of ended windows', async () => {
    expect((await counterRows()).length).toBeGreaterThan(0);
    const client = await ctx.createClient(['tools:deploy']);
    const wrong = await wrongSecretFor(client);
    for (let i = 0; i < 10; i++) await instances[i % 2]!.exchange('10.34.0.1', wrong);
    for (const instance of instances) expect((await instance.exchange('10.34.0.1', client)).status).toBe(429);

    ctx.clock.advance(60_000);
    await secondDeps.throttle.sweep();
    expect(await counterRows()).toEqual([]);
    for (const instance of instances) expect((await instance.exchange('10.34.0.1', client)).status).toBe(200);
  });
});
