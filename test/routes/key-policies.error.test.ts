// Bad per-key scopes and IP allow-lists: each a clear 400 naming what is wrong, and nothing
// stored.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expect400, orgSnapshot } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('per-key scopes and IP allow-lists, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    let appId: string;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      admin = await ctx.tokenFor(['admin.apps:full']);
      appId = (await post('/v1/apps', { name: 'svc', scopes: ['agents:edit', 'tools:deploy'], allowed_ips: ['10.0.0.0/8', '2001:db8::/32'] }).expect(201)).body.id;
    });
    afterAll(async () => ctx?.close());

    const auth = (req: request.Test) => req.set('Authorization', `Bearer ${admin.token}`);
    function post(path: string, body: object) {
      return auth(request(ctx.app).post(path)).send(body);
    }
    const patch = (path: string, body: object) => auth(request(ctx.app).patch(path)).send(body);

    async function refusedUnchanged(send: () => request.Test, field: string) {
      const before = await orgSnapshot(ctx, admin.orgId);
      const res = await send();
      expect400(res, field);
      expect(await orgSnapshot(ctx, admin.orgId)).toEqual(before);
      return res;
    }

    it('refuses key scopes outside the app’s grant, naming them', async () => {
      const res = await refusedUnchanged(() => post(`/v1/apps/${appId}/keys`, { name: 'k', scopes: ['tools:deploy', 'runtime:run', 'documents:upload'] }), 'scopes');
      expect(res.body.detail).toContain('the app does not grant documents:upload, runtime:run (it grants agents:edit agents:view tools:deploy)');
      expect(res.body.outside_app).toEqual(['documents:upload', 'runtime:run']);
    });

    it('refuses a key scope implied by nothing the app holds, but takes one its grant implies', async () => {
      await refusedUnchanged(() => post(`/v1/apps/${appId}/keys`, { name: 'k', scopes: ['agents:full'] }), 'agents:full');
      await post(`/v1/apps/${appId}/keys`, { name: 'k', scopes: ['agents:view'] }).expect(201);
    });

    it('refuses unknown key scopes with the catalogue’s suggestion', async () => {
      const res = await refusedUnchanged(() => post(`/v1/apps/${appId}/keys`, { name: 'k', scopes: ['tools:deploi'] }), 'scopes');
      expect(res.body.detail).toContain('did you mean "tools:deploy"');
    });

    it('refuses an empty list of key scopes (leave it out for the app’s)', async () => {
      await refusedUnchanged(() => post(`/v1/apps/${appId}/keys`, { name: 'k', scopes: [] }), 'scopes');
    });

    it.each([
      ['a prefix too long', '10.0.0.0/33'],
      ['an IPv6 prefix too long', '2001:db8::/129'],
      ['a name', 'example.com'],
      ['a range with a dash', '10.0.0.1-10.0.0.9'],
      ['a zone', 'fe80::1%eth0'],
      ['a leading-zero octet', '010.0.0.1'],
      ['an empty prefix', '10.0.0.0/'],
      ['an empty entry', ''],
    ])('refuses an app list with %s, naming the entry', async (_what, entry) => {
      const res = await refusedUnchanged(() => post('/v1/apps', { name: 'bad', scopes: ['tools:deploy'], allowed_ips: ['192.0.2.1', entry] }), 'allowed_ips');
      expect(res.body.detail).toContain(`"${entry}"`);
      await refusedUnchanged(() => patch(`/v1/apps/${appId}`, { allowed_ips: [entry] }), 'allowed_ips');
    });

    it('refuses more than 100 entries', async () => {
      const many = Array.from({ length: 101 }, (_, i) => `192.0.2.${i}`);
      const res = await refusedUnchanged(() => post('/v1/apps', { name: 'bad', scopes: ['tools:deploy'], allowed_ips: many }), 'allowed_ips');
      expect(res.body.detail).toContain('at most 100');
      await refusedUnchanged(() => post(`/v1/apps/${appId}/keys`, { name: 'k', allowed_ips: many }), 'allowed_ips');
      // 100 are fine.
      await post('/v1/apps', { name: 'hundred', scopes: ['tools:deploy'], allowed_ips: many.slice(0, 100) }).expect(201);
    });

    it('refuses an empty list: null is “any address”', async () => {
      const res = await refusedUnchanged(() => post('/v1/apps', { name: 'bad', scopes: ['tools:deploy'], allowed_ips: [] }), 'allowed_ips');
      expect(res.body.detail).toContain('null allows any address');
      await refusedUnchanged(() => patch(`/v1/apps/${appId}`, { allowed_ips: [] }), 'allowed_ips');
      await refusedUnchanged(() => post(`/v1/apps/${appId}/keys`, { name: 'k', allowed_ips: [] }), 'allowed_ips');
    });

    it('refuses entries that are not strings', async () => {
      await refusedUnchanged(() => post('/v1/apps', { name: 'bad', scopes: ['tools:deploy'], allowed_ips: [10] }), 'allowed_ips');
      await refusedUnchanged(() => post('/v1/apps', { name: 'bad', scopes: ['tools:deploy'], allowed_ips: '10.0.0.0/8' }), 'allowed_ips');
    });

    it('refuses a key address or range outside its app’s list, naming it', async () => {
      const res = await refusedUnchanged(
        () => post(`/v1/apps/${appId}/keys`, { name: 'k', allowed_ips: ['10.1.0.0/16', '192.0.2.0/24', '2001:db9::1', '0.0.0.0/0'] }),
        'allowed_ips',
      );
      expect(res.body.outside_app).toEqual(['192.0.2.0/24', '2001:db9::1', '0.0.0.0/0']);
      // Wider than the app's range, though it starts inside it.
      await refusedUnchanged(() => post(`/v1/apps/${appId}/keys`, { name: 'k', allowed_ips: ['10.0.0.0/7'] }), 'allowed_ips');
      await refusedUnchanged(() => post(`/v1/apps/${appId}/keys`, { name: 'k', allowed_ips: ['bogus'] }), 'allowed_ips');
    });
  });
});
