// What the timing of a refusal tells: an unknown key id, an org that does not hold the key or
// an address outside the key's allow-list is answered no sooner than a wrong secret for a
// real key (whose argon2 verification the server has to run), so one request does not tell
// whether a key id exists, nor whether a secret is right.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import type { SecretHasher } from '../../src/domain/hashing.js';
import { createTestContext, type TestContext, type TestCredentials } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

/** The real (cheap) hasher, each verification taking `ms` longer on a timer, as a costly argon2 would. */
function slowHasher(real: SecretHasher, ms: number): SecretHasher {
  return {
    hash: (secret) => real.hash(secret),
    verify: async (hash, secret) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return real.verify(hash, secret);
    },
  };
}

const VERIFY_MS = 150;

describe.each(DIALECTS)('the timing of refused token exchanges on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let app: App;
    let client: TestCredentials;
    let wrong: TestCredentials;

    beforeAll(async () => {
      ctx = await createTestContext({
        dialect: dialectCase.dialect,
        // Four at a time to time the slow verifications quickly; limits high enough that only timing is tested.
        env: { SCOPE_AUTH_ARGON2_CONCURRENCY: '4', SCOPE_AUTH_THROTTLE_KEY_FAILURES: '1000', SCOPE_AUTH_THROTTLE_IP_FAILURES: '1000' },
      });
      app = createApp({ ...ctx.deps, hasher: slowHasher(ctx.deps.hasher, VERIFY_MS) });
      client = await ctx.createClient(['tools:deploy']);
      wrong = { ...client, secret: (await ctx.createClient(['tools:deploy'])).secret };
      // The server learns what a verification costs from the ones it runs.
      for (let round = 0; round < 6; round++) await Promise.all(Array.from({ length: 4 }, () => exchange(wrong)));
    }, 30_000);
    afterAll(async () => ctx?.close());

    const exchange = (c: TestCredentials) => request(app).post('/v1/token').send({ org_id: c.orgId, key_id: c.keyId, secret: c.secret });

    async function timed(c: TestCredentials) {
      const started = performance.now();
      const res = await exchange(c);
      return { res, ms: performance.now() - started };
    }

    it('answers a wrong secret after its verification', async () => {
      const { res, ms } = await timed(wrong);
      expect(res.status).toBe(401);
      expect(ms).toBeGreaterThanOrEqual(VERIFY_MS);
    });

    it('answers an unknown key id no sooner than about a verification, with the same body', async () => {
      const wrongAnswer = await exchange(wrong);
      const { res, ms } = await timed({ ...client, keyId: 'key_01JA0000000000000000000000' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(wrongAnswer.body);
      // The server's estimate: the median of its recent verifications (its first guess, 0.5 ms with test parameters, long gone).
      expect(ms).toBeGreaterThanOrEqual(VERIFY_MS * 0.8);
    });

    it('answers a key claimed for another org no sooner than about a verification', async () => {
      const other = await ctx.createOrg('other');
      const { res, ms } = await timed({ ...client, orgId: other.org.id });
      expect(res.status).toBe(401);
      expect(ms).toBeGreaterThanOrEqual(VERIFY_MS * 0.8);
    });

    it('answers an address outside the allow-list no sooner than about a verification, even for a secret it has verified', async () => {
      const wrongAnswer = await exchange(wrong);
      const listed = await ctx.createClient(['tools:deploy']);
      // Verified (and remembered) from here, then the app is restricted to elsewhere.
      expect((await exchange(listed)).status).toBe(200);
      await ctx.db.updateTable('apps').set({ allowed_ips: '["198.51.100.0/24"]' }).where('id', '=', listed.appId).execute();
      const { res, ms } = await timed(listed);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(wrongAnswer.body);
      expect(ms).toBeGreaterThanOrEqual(VERIFY_MS * 0.8);
    });
  });
});
