// Every admin route that names an object, called by an admin of another org with that
// object's id: 404, as for an id that does not exist, and nothing changes. Likewise for
// the objects of a deleted app in the caller's own org.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSnapshot } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

type Method = 'get' | 'post' | 'patch' | 'delete';
interface Ids {
  appId: string;
  keyId: string;
}
const ROUTES: [Method, (ids: Ids) => string, object?][] = [
  ['get', (ids) => `/v1/apps/${ids.appId}`],
  ['patch', (ids) => `/v1/apps/${ids.appId}`, { name: 'taken over', scopes: ['agents:full'] }],
  ['delete', (ids) => `/v1/apps/${ids.appId}`],
  ['get', (ids) => `/v1/apps/${ids.appId}/keys`],
  ['post', (ids) => `/v1/apps/${ids.appId}/keys`, { name: 'planted' }],
  ['get', (ids) => `/v1/keys?app_id=${ids.appId}`],
  ['get', (ids) => `/v1/keys/${ids.keyId}`],
  ['post', (ids) => `/v1/keys/${ids.keyId}/revoke`, { reason: 'sabotage' }],
  ['post', (ids) => `/v1/keys/${ids.keyId}/roll`, { grace_seconds: 0 }],
  ['delete', (ids) => `/v1/keys/${ids.keyId}`],
];
const ALL_ADMIN = ['admin.apps:full', 'admin.audit:view', 'tokens:introspect'];

describe.each(DIALECTS)('tenant isolation of the admin API on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let victim: Awaited<ReturnType<TestContext['createClient']>>;
    let intruder: string;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      victim = await ctx.createClient(['agents:view'], { orgId: ctx.root.org.id });
      const other = await ctx.createOrg('intruder');
      intruder = (await ctx.tokenFor(ALL_ADMIN, { orgId: other.org.id })).token;
    });
    afterAll(async () => ctx?.close());

    const send = (token: string, [method, path, body]: (typeof ROUTES)[number], ids: Ids) => {
      const req = request(ctx.app)[method](path(ids)).set('Authorization', `Bearer ${token}`);
      return body === undefined ? req : req.send(body);
    };

    it.each(ROUTES.map((r) => [`${r[0].toUpperCase()} ${r[1]({ appId: '{app_id}', keyId: '{key_id}' })}`, r] as const))(
      '%s with another org’s id answers 404 and changes nothing',
      async (_name, route) => {
        const before = await orgSnapshot(ctx, ctx.root.org.id);
        const res = await send(intruder, route, { appId: victim.appId, keyId: victim.keyId });
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ code: 'not_found' });
        // The same answer as for an id that exists nowhere.
        const missing = await send(intruder, route, { appId: 'app_01J00000000000000000000000', keyId: 'key_01J00000000000000000000000' });
        expect(missing.status).toBe(404);
        expect(res.body.detail.replace(/(app|key)_[0-9A-Z]{26}/, 'ID')).toBe(missing.body.detail.replace(/(app|key)_[0-9A-Z]{26}/, 'ID'));
        expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
      },
    );

    it('leaves the other org’s key working after every attempt', async () => {
      await ctx.exchange(victim).expect(200);
    });

    it('never lists another org’s apps, keys or audit events', async () => {
      const get = async (path: string) => (await request(ctx.app).get(path).set('Authorization', `Bearer ${intruder}`).expect(200)).body;
      const apps = await get('/v1/apps?limit=200');
      const keys = await get('/v1/keys?limit=200');
      const audit = await get(`/v1/audit?limit=200&target_id=${victim.keyId}`);
      expect(apps.data.map((a: { id: string }) => a.id)).not.toContain(victim.appId);
      expect(keys.data.map((k: { id: string }) => k.id)).not.toContain(victim.keyId);
      expect(apps.data.every((a: { org_id: string }) => a.org_id !== ctx.root.org.id)).toBe(true);
      expect(keys.data.every((k: { org_id: string }) => k.org_id !== ctx.root.org.id)).toBe(true);
      expect(audit.data).toEqual([]);
    });

    describe('a deleted app and its keys', () => {
      let doomed: Ids;
      let admin: string;
      beforeAll(async () => {
        const client = await ctx.createClient(['agents:view']);
        doomed = { appId: client.appId, keyId: client.keyId };
        admin = (await ctx.tokenFor(ALL_ADMIN)).token;
        await request(ctx.app).delete(`/v1/apps/${doomed.appId}`).set('Authorization', `Bearer ${admin}`).expect(204);
      });

      it.each(ROUTES.map((r) => [`${r[0].toUpperCase()} ${r[1]({ appId: '{app_id}', keyId: '{key_id}' })}`, r] as const))(
        '%s answers 404 and changes nothing',
        async (_name, route) => {
          const before = await orgSnapshot(ctx, ctx.root.org.id);
          const res = await send(admin, route, doomed);
          expect(res.status).toBe(404);
          expect(await orgSnapshot(ctx, ctx.root.org.id)).toEqual(before);
        },
      );
    });
  });
});
