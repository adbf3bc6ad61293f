// A second instance that has not heard of another's rotation yet (no change feed, no
// periodic re-read) still accepts the tokens the new key signs: it re-reads the keys when a
// token names a kid it does not know, instead of calling the token invalid.
import { decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type AppDeps } from '../../src/app.js';
import { createServices } from '../../src/services.js';
import { createDatabase, type DatabaseHandle } from '../../src/store/database.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { testLogger } from '../helpers/test-logger.js';

describe.each(DIALECTS)('an instance that has not heard of a rotation yet, on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let secondDb: DatabaseHandle;
    let second: AppDeps;
    let secondApp: App;

    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      secondDb = await createDatabase(ctx.database.url, ctx.database.schema === undefined ? {} : { schema: ctx.database.schema });
      second = await createServices(ctx.deps.config, { db: secondDb.db, kek: ctx.kek, logger: testLogger(), clock: ctx.clock });
      secondApp = createApp(second);
    });
    afterAll(async () => {
      await second?.lastUsed.stop();
      await secondDb?.close();
      await ctx?.close();
    });

    /** A token of the first instance signed by a fresh key the second has never seen. */
    async function tokenOfAFreshKey(scopes: string[]): Promise<string> {
      await ctx.deps.keyring.rotate({ immediate: true, replaceStandby: true });
      const { token } = await ctx.tokenFor(scopes);
      expect(second.keyring.verificationKey(decodeProtectedHeader(token).kid!)).toBeUndefined();
      return token;
    }

    it('calls a token signed by a key the other instance just made sign active on introspection', async () => {
      const caller = await ctx.tokenFor(['tokens:introspect']);
      const token = await tokenOfAFreshKey(['tools:deploy']);
      const res = await request(secondApp).post('/oauth2/introspect').set('Authorization', `Bearer ${caller.token}`).type('form').send({ token }).expect(200);
      expect(res.body).toMatchObject({ active: true, scope: 'tools:deploy' });
    });

    it('accepts such a token on the admin API', async () => {
      const token = await tokenOfAFreshKey(['admin.apps:view']);
      await request(secondApp).get('/v1/apps').set('Authorization', `Bearer ${token}`).expect(200);
    });
  });
});
