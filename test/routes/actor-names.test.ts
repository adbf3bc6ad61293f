// created_by_name, revoked_by_name and actor_name: the name behind each actor id, resolved
// when read (a rename shows everywhere at once), for a whole page in one query.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/domain/actor.js';
import { listAuditEvents } from '../../src/domain/audit.js';
import { listKeys } from '../../src/domain/keys.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, session } from '../helpers/people.js';
import { QueryCounter } from '../helpers/query-counter.js';

/** Counts statements run (a union's parts are transformed one by one, but run as one statement). */
class StatementCounter extends QueryCounter {
  statements = 0;
  override async transformResult(args: Parameters<QueryCounter['transformResult']>[0]) {
    this.statements++;
    return super.transformResult(args);
  }
}

describe.each(DIALECTS)('actor names on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    it('names the person or key that created and revoked, and the actor of each event, as they are named now', async () => {
      const ada = await createPerson(ctx, { name: 'Ada' });
      const app = (await session(ctx.app, ada).post('/v1/apps', { name: 'named', scopes: ['tools:deploy'] }).expect(201)).body;
      const key = (await session(ctx.app, ada).post(`/v1/apps/${app.id}/keys`, { name: 'deployer' }).expect(201)).body.key;
      const revoker = await ctx.tokenFor(['admin.apps:full', 'admin.audit:view']);
      const revoked = await request(ctx.app).post(`/v1/keys/${key.id}/revoke`).set('Authorization', `Bearer ${revoker.token}`).send({}).expect(200);
      expect(revoked.body).toMatchObject({ created_by: ada.userId, created_by_name: 'Ada', revoked_by: revoker.keyId, revoked_by_name: 'test key' });
      await session(ctx.app, ada).patch('/v1/me', { name: 'Ada Lovelace-King' }).expect(200);
      expect((await session(ctx.app, ada).get(`/v1/keys/${key.id}`).expect(200)).body.created_by_name).toBe('Ada Lovelace-King');
      expect((await session(ctx.app, ada).get(`/v1/apps/${app.id}`).expect(200)).body.created_by_name).toBe('Ada Lovelace-King');
      const events = (await session(ctx.app, ada).get(`/v1/audit?target_id=${key.id}`).expect(200)).body.data;
      expect(events.map((e: { action: string; actor_name: string }) => [e.action, e.actor_name])).toEqual([
        ['key.revoked', 'test key'],
        ['key.created', 'Ada Lovelace-King'],
      ]);
      const system = (await session(ctx.app, ada).get(`/v1/apps/${ctx.root.adminApp.id}`).expect(200)).body;
      expect(system).toMatchObject({ created_by: 'system', created_by_name: 'system' });
    });

    it('looks the names of a page up in one query, however many rows and actors it has', async () => {
      const people = await Promise.all([1, 2, 3].map((n) => createPerson(ctx, { name: `Keymaker ${n}` })));
      const app = (await session(ctx.app, people[0]!).post('/v1/apps', { name: 'many keys', scopes: ['tools:deploy'] }).expect(201)).body;
      for (let i = 0; i < 12; i++) await session(ctx.app, people[i % 3]!).post(`/v1/apps/${app.id}/keys`, { name: `k${i}` }).expect(201);
      const actor: Actor = { orgId: ctx.root.org.id, id: 'cli', ip: null, scopes: 'all' };
      const queries = async (limit: number, run: (deps: typeof ctx.deps) => Promise<unknown>) => {
        const counter = new StatementCounter();
        await run({ ...ctx.deps, db: ctx.db.withPlugin(counter) });
        return counter.statements;
      };
      const keysOf = (limit: number) => queries(limit, (deps) => listKeys(deps, actor, { appId: app.id, limit }));
      expect(await keysOf(12)).toBe(await keysOf(1));
      const eventsOf = (limit: number) => queries(limit, (deps) => listAuditEvents(deps, actor, { limit }));
      expect(await eventsOf(50)).toBe(await eventsOf(1));
      // The page's read, and the names'.
      expect(await eventsOf(50)).toBe(2);
    });
  });
});
