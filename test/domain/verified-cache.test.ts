import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import type { SecretHasher } from '../../src/domain/hashing.js';
import { cacheHeapWarning, createVerifiedCache } from '../../src/domain/verified-cache.js';
import { createTestClock } from '../helpers/clock.js';
import { createTestContext, type TestContext, type TestCredentials } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

const HASH_A = '$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g';
const HASH_B = '$argon2id$v=19$m=1024,t=1,p=1$b3RoZXJzYWx0$b3RoZXJoYXNob3RoZXJoYXNo';
const SECRET = 'secret_one';

describe('the verified-credential cache', () => {
  const minute = 60_000;
  const build = (maxEntries = 3, maxAgeMs = 10 * minute) => {
    const clock = createTestClock();
    return { clock, cache: createVerifiedCache({ maxEntries, maxAgeMs, clock }) };
  };

  it('knows a secret it was told was verified, for that key and hash', () => {
    const { cache } = build();
    cache.remember('key_1', HASH_A, SECRET);
    expect(cache.has('key_1', HASH_A, SECRET)).toBe(true);
  });

  it('does not know a different secret, a different hash or another key id', () => {
    const { cache } = build();
    cache.remember('key_1', HASH_A, SECRET);
    expect(cache.has('key_1', HASH_A, 'secret_two')).toBe(false);
    expect(cache.has('key_1', HASH_B, SECRET)).toBe(false);
    expect(cache.has('key_2', HASH_A, SECRET)).toBe(false);
  });

  it('keeps a remembered secret when a wrong one is presented', () => {
    const { cache } = build();
    cache.remember('key_1', HASH_A, SECRET);
    cache.has('key_1', HASH_A, 'secret_wrong');
    expect(cache.has('key_1', HASH_A, SECRET)).toBe(true);
  });

  it('forgets a verification once it is as old as the age limit', () => {
    const { cache, clock } = build(3, 10 * minute);
    cache.remember('key_1', HASH_A, SECRET);
    clock.advance(10 * minute - 1);
    expect(cache.has('key_1', HASH_A, SECRET)).toBe(true);
    clock.advance(1);
    expect(cache.has('key_1', HASH_A, SECRET)).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('counts the age from the verification, not from the last hit', () => {
    const { cache, clock } = build(3, 10 * minute);
    cache.remember('key_1', HASH_A, SECRET);
    clock.advance(9 * minute);
    expect(cache.has('key_1', HASH_A, SECRET)).toBe(true);
    clock.advance(minute);
    expect(cache.has('key_1', HASH_A, SECRET)).toBe(false);
  });

  it('holds at most its size, dropping the least recently used key first', () => {
    const { cache } = build(3);
    cache.remember('key_1', HASH_A, SECRET);
    cache.remember('key_2', HASH_A, SECRET);
    cache.remember('key_3', HASH_A, SECRET);
    expect(cache.has('key_1', HASH_A, SECRET)).toBe(true); // key_2 is now the least recently used
    cache.remember('key_4', HASH_A, SECRET);
    expect(cache.size).toBe(3);
    expect(cache.has('key_2', HASH_A, SECRET)).toBe(false);
    expect(['key_1', 'key_3', 'key_4'].every((id) => cache.has(id, HASH_A, SECRET))).toBe(true);
  });

  it('replaces the entry of a key verified again with another hash', () => {
    const { cache } = build();
    cache.remember('key_1', HASH_A, SECRET);
    cache.remember('key_1', HASH_B, 'secret_two');
    expect(cache.size).toBe(1);
    expect(cache.has('key_1', HASH_A, SECRET)).toBe(false);
    expect(cache.has('key_1', HASH_B, 'secret_two')).toBe(true);
  });

  it('remembers nothing with size 0', () => {
    const { cache } = build(0);
    cache.remember('key_1', HASH_A, SECRET);
    expect(cache.size).toBe(0);
    expect(cache.has('key_1', HASH_A, SECRET)).toBe(false);
  });

  it('does not share its MAC key with another cache', () => {
    const clock = createTestClock();
    const one = createVerifiedCache({ maxEntries: 1, maxAgeMs: minute, clock });
    const other = createVerifiedCache({ maxEntries: 1, maxAgeMs: minute, clock });
    one.remember('key_1', HASH_A, SECRET);
    expect(other.has('key_1', HASH_A, SECRET)).toBe(false);
  });
});

/** The real argon2 hasher, counting the verifications it runs. */
function countingHasher(real: SecretHasher) {
  const counter = {
    verifications: 0,
    hasher: {
      hash: (secret: string) => real.hash(secret),
      verify: (hash: string, secret: string) => {
        counter.verifications++;
        return real.verify(hash, secret);
      },
    } satisfies SecretHasher,
  };
  return counter;
}

describe('the heap check of the verified-credential cache', () => {
  const MIB = 1024 * 1024;
  // What `npm start` gives the process: --max-old-space-size=128 and 2 MiB semi-spaces.
  const NPM_START_LIMIT = 134 * MIB;

  it('says nothing for the default size under the npm start heap limit', () => {
    expect(cacheHeapWarning(10_000, NPM_START_LIMIT)).toBeNull();
  });

  it('names the variable and the Node option to raise when a full cache would not fit', () => {
    const warning = cacheHeapWarning(1_000_000, NPM_START_LIMIT);
    expect(warning).toMatch(/^SCOPE_AUTH_VERIFIED_CACHE_SIZE=1000000 can take 334 MiB of heap/);
    const suggested = Number(/--max-old-space-size=(\d+)/.exec(warning ?? '')?.[1]);
    // The suggestion is itself enough: with it, the same size raises no warning.
    expect(cacheHeapWarning(1_000_000, suggested * MIB)).toBeNull();
  });
});

describe.each(DIALECTS)('token exchange with the verified-credential cache on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let app: App;
    let counter: ReturnType<typeof countingHasher>;
    let client: TestCredentials & { appId: string };

    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_VERIFIED_CACHE_TTL: '600' } });
    });
    afterAll(async () => ctx?.close());

    beforeEach(async () => {
      counter = countingHasher(ctx.deps.hasher);
      app = createApp({ ...ctx.deps, hasher: counter.hasher });
      client = await ctx.createClient(['tools:deploy']);
    });

    const exchange = (credentials: TestCredentials) =>
      request(app).post('/v1/token').send({ org_id: credentials.orgId, key_id: credentials.keyId, secret: credentials.secret });

    async function metric(name: string): Promise<string> {
      const text = await ctx.deps.metrics.registry.metrics();
      return text.split('\n').filter((line) => line.startsWith(name)).join('\n');
    }

    it('skips argon2 when the same secret is exchanged again', async () => {
      await exchange(client).expect(200);
      await exchange(client).expect(200);
      await exchange(client).expect(200);
      expect(counter.verifications).toBe(1);
    });

    it('counts hits and misses in the metrics', async () => {
      const before = await metric('scope_auth_verified_cache_lookups_total');
      await exchange(client).expect(200);
      await exchange(client).expect(200);
      const after = await metric('scope_auth_verified_cache_lookups_total');
      const count = (text: string, result: string) => Number(new RegExp(`result="${result}"} (\\d+)`).exec(text)?.[1] ?? 0);
      expect(count(after, 'hit') - count(before, 'hit')).toBe(1);
      expect(count(after, 'miss') - count(before, 'miss')).toBe(1);
    });

    it('never remembers a wrong secret: each attempt runs argon2 and is refused', async () => {
      const wrong = { ...client, secret: (await ctx.createClient(['tools:deploy'])).secret };
      await exchange(wrong).expect(401);
      await exchange(wrong).expect(401);
      expect(counter.verifications).toBe(2);
    });

    it('runs argon2 for a wrong secret even when the right one is remembered, and refuses it', async () => {
      await exchange(client).expect(200);
      const wrong = { ...client, secret: (await ctx.createClient(['tools:deploy'])).secret };
      const res = await exchange(wrong).expect(401);
      expect(res.body.error).toBe('invalid_client');
      expect(counter.verifications).toBe(2);
      await exchange(client).expect(200);
      expect(counter.verifications).toBe(2);
    });

    it('refuses a revoked key at once even though its secret is remembered', async () => {
      await exchange(client).expect(200);
      await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now(), revoked_by: 'system' }).where('id', '=', client.keyId).execute();
      const res = await exchange(client).expect(401);
      expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    });

    it('refuses an expired key at once even though its secret is remembered', async () => {
      const app2 = await ctx.createApp(client.orgId, ['tools:deploy']);
      const { key, secret } = await ctx.createKey(client.orgId, app2.id, { expiresAt: ctx.clock.now() + 60_000 });
      const expiring = { orgId: client.orgId, keyId: key.id, secret };
      await exchange(expiring).expect(200);
      ctx.clock.advance(60_000);
      await exchange(expiring).expect(401);
    });

    it("refuses a key whose app was deleted at once even though its secret is remembered", async () => {
      await exchange(client).expect(200);
      await ctx.db.updateTable('apps').set({ deleted_at: ctx.clock.now() }).where('id', '=', client.appId).execute();
      await exchange(client).expect(401);
    });

    it('gives the app its current scopes on a remembered exchange', async () => {
      await exchange(client).expect(200);
      await ctx.db.updateTable('apps').set({ scopes: JSON.stringify(['agents:view']) }).where('id', '=', client.appId).execute();
      const res = await exchange(client).expect(200);
      expect(res.body.scope).toBe('agents:view');
      expect(counter.verifications).toBe(1);
    });

    it('verifies again with argon2 once the remembered verification is older than the age limit', async () => {
      await exchange(client).expect(200);
      ctx.clock.advance(600_000);
      await exchange(client).expect(200);
      expect(counter.verifications).toBe(2);
    });

    it('verifies again with argon2 when the stored hash of the key changed', async () => {
      await exchange(client).expect(200);
      const rehashed = await ctx.deps.hasher.hash(client.secret);
      await ctx.db.updateTable('api_keys').set({ secret_hash: rehashed }).where('id', '=', client.keyId).execute();
      await exchange(client).expect(200);
      expect(counter.verifications).toBe(2);
    });

    it('runs argon2 on every exchange when the cache is turned off', async () => {
      const off = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_VERIFIED_CACHE_SIZE: '0' } });
      try {
        const offCounter = countingHasher(off.deps.hasher);
        const offApp = createApp({ ...off.deps, hasher: offCounter.hasher });
        const c = await off.createClient(['tools:deploy']);
        const send = () => request(offApp).post('/v1/token').send({ org_id: c.orgId, key_id: c.keyId, secret: c.secret }).expect(200);
        await send();
        await send();
        expect(offCounter.verifications).toBe(2);
      } finally {
        await off.close();
      }
    });
  });
});
