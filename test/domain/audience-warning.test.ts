// Apps created before the catalogue listed audiences (or whose audience was removed from it)
// keep working; a starting server names them in one warning so the operator can act.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { disallowedAudienceWarning } from '../../src/domain/audiences.js';
import { createLogger } from '../../src/logger.js';
import { startServer } from '../../src/server.js';
import { catalogFile, TEST_AUDIENCES, type CatalogFile } from '../helpers/catalog.js';
import { createTestContext, TEST_ENV, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { testLogger } from '../helpers/test-logger.js';

describe.each(DIALECTS)('apps whose audience is not allowed, on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, catalog: { audiences: [...TEST_AUDIENCES] } });
    });
    afterAll(async () => ctx?.close());
    const policy = () => ({ catalog: ctx.deps.catalog, defaultAudience: ctx.deps.config.audience });

    it('are none when every live app uses a listed audience, the default one or none', async () => {
      await ctx.createApp(ctx.root.org.id, [], { audience: 'https://api.example.com' });
      await ctx.createApp(ctx.root.org.id, [], { audience: ctx.deps.config.audience });
      await ctx.createApp(ctx.root.org.id, [], { audience: 'https://gone.example', deleted_at: ctx.clock.now() });
      expect(await disallowedAudienceWarning(ctx.db, policy())).toBeNull();
    });

    it('are named with their org and audience, oldest first, and counted', async () => {
      const tenant = await ctx.createOrg('legacy');
      const first = await ctx.createApp(tenant.org.id, [], { audience: 'https://retired.example' });
      ctx.clock.advance(1);
      const second = await ctx.createApp(ctx.root.org.id, [], { audience: 'https://api-a.example' });
      const warning = await disallowedAudienceWarning(ctx.db, policy());
      expect(warning).toEqual({
        message: expect.stringContaining('2 apps have audiences the scope catalogue does not list; they keep working'),
        count: 2,
        apps: [
          { id: first.id, org_id: tenant.org.id, audience: 'https://retired.example' },
          { id: second.id, org_id: ctx.root.org.id, audience: 'https://api-a.example' },
        ],
      });
      // And they keep working.
      const client = await ctx.createClient(['tools:deploy'], { orgId: tenant.org.id, app: { audience: 'https://retired.example' } });
      await ctx.exchange(client).expect(200);
    });
  });
});

describe('a starting server', () => {
  let dir: string;
  let catalog: CatalogFile;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scope-auth-audience-warning-'));
    catalog = catalogFile({ audiences: [...TEST_AUDIENCES] });
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    catalog.remove();
  });

  it('logs one warning naming the apps whose audience the catalogue does not list', async () => {
    const env = { ...TEST_ENV, SCOPE_AUTH_PORT: '0', SCOPE_AUTH_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, SCOPE_AUTH_KEYS_DIR: join(dir, 'keys') };
    // First start, before the operator listed audiences: an app picks its own.
    const first = await startServer(loadConfig(env), { logger: testLogger() });
    const root = first.bootstrap!;
    const login = await request(first.url).post('/v1/token').send({ org_id: root.org.id, key_id: root.key.id, secret: root.secret }).expect(200);
    const app = await request(first.url)
      .post('/v1/apps')
      .set('Authorization', `Bearer ${login.body.access_token}`)
      .send({ name: 'own audience', scopes: [], audience: 'http://scope-auth.test' })
      .expect(201);
    await first.deps.db.updateTable('apps').set({ audience: 'https://retired.example' }).where('id', '=', app.body.id).execute();
    await first.close();

    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const second = await startServer(loadConfig({ ...env, SCOPE_AUTH_CATALOG: catalog.path, SCOPE_AUTH_LOG_LEVEL: 'info' }), { logger: createLogger('info', sink) });
    await second.close();
    // (The test issuer is plain http on a name other than localhost: its cookie warning is not this test's.)
    const warnings = lines.filter((l) => l.level === 40 && !String(l.msg).includes('session cookies'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      msg: expect.stringContaining('1 app has an audience the scope catalogue does not list'),
      count: 1,
      apps: [{ id: app.body.id, org_id: root.org.id, audience: 'https://retired.example' }],
    });
  });
});
