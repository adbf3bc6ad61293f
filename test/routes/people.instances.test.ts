// Two instances on one database (as behind a load balancer): a session made on one works on
// the other, CSRF token included, and disabling the person, changing their role or resetting
// their password on one ends it on the other at the very next request: every
// session-authenticated request reads its session row, there is no cache to wait for.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App, type AppDeps } from '../../src/app.js';
import { createServices } from '../../src/services.js';
import { createDatabase, type DatabaseHandle } from '../../src/store/database.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, session, signIn, cookieOf, tokenOf } from '../helpers/people.js';
import { testLogger } from '../helpers/test-logger.js';

describe.each(DIALECTS)('sessions across two instances on one database, on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let secondDb: DatabaseHandle;
    let second: AppDeps;
    let other: App;

    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      secondDb = await createDatabase(ctx.database.url, ctx.database.schema === undefined ? {} : { schema: ctx.database.schema });
      second = await createServices(ctx.deps.config, { db: secondDb.db, kek: ctx.kek, logger: testLogger(), clock: ctx.clock });
      other = createApp(second);
    });
    afterAll(async () => {
      await second?.lastUsed.stop();
      await secondDb?.close();
      await ctx?.close();
    });

    it('accepts on one instance a session and CSRF token made on the other', async () => {
      const ada = await createPerson(ctx);
      await session(other, ada).get('/v1/me').expect(200);
      await session(other, ada).post('/v1/apps', { name: 'from the other instance', scopes: [] }).expect(201);
    });

    it('ends a person’s sessions on the other instance at once when they are disabled there', async () => {
      const owner = await createPerson(ctx);
      const pat = await createPerson(ctx, { role: 'viewer' });
      await session(ctx.app, pat).get('/v1/apps').expect(200);
      await session(other, owner).patch(`/v1/users/${pat.userId}`, { status: 'disabled' }).expect(200);
      await session(ctx.app, pat).get('/v1/apps').expect(401);
      await signIn(ctx.app, pat.email).expect(401);
    });

    it('ends them at once when their role changes on the other instance, and the new session has the new role', async () => {
      const owner = await createPerson(ctx);
      const ed = await createPerson(ctx, { role: 'editor' });
      await session(ctx.app, ed).get('/v1/keys').expect(200);
      await session(other, owner).patch(`/v1/users/${ed.userId}`, { role: 'viewer' }).expect(200);
      await session(ctx.app, ed).get('/v1/keys').expect(401);
      const again = await signIn(ctx.app, ed.email).expect(201);
      const me = await session(ctx.app, { cookie: cookieOf(again), csrf: again.body.csrf_token }).get('/v1/me').expect(200);
      expect(me.body.role).toBe('viewer');
    });

    it('ends them at once when a password reset is issued on the other instance, and when it is used there', async () => {
      const owner = await createPerson(ctx);
      const pat = await createPerson(ctx, { role: 'viewer' });
      const reset = await session(other, owner).post(`/v1/users/${pat.userId}/password-reset`).expect(201);
      await session(ctx.app, pat).get('/v1/me').expect(401);
      const meanwhile = cookieOf(await signIn(ctx.app, pat.email).expect(201));
      await request(other).post(`/v1/invitations/${tokenOf(reset.body.reset_url)}`).send({ password: 'a fresh and long passphrase' }).expect(201);
      await request(ctx.app).get('/v1/me').set('Cookie', meanwhile).expect(401);
    });

    it('ends a session signed out on the other instance', async () => {
      const sam = await createPerson(ctx);
      await session(other, sam).delete('/v1/sessions/current').expect(204);
      await session(ctx.app, sam).get('/v1/me').expect(401);
    });
  });
});
