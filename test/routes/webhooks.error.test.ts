import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WEBHOOKS_PER_ORG_MAX } from '../../src/domain/webhooks.js';
import { expect400, orgSnapshot } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

const OK = { url: 'https://hooks.example.com/in', events: ['key.revoked'] };
const MISSING = 'whk_01JD0000000000000000000000';

describe.each(DIALECTS)('/v1/webhooks, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    beforeAll(async () => {
      // The operator's switches at their defaults: https to public addresses only.
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      admin = await ctx.tokenFor(['admin.webhooks:full']);
    });
    afterAll(async () => ctx?.close());
    beforeEach(async () => {
      admin.token = await ctx.tokenOf(admin);
      await ctx.db.deleteFrom('webhooks').execute();
    });

    const auth = (req: request.Test) => req.set('Authorization', `Bearer ${admin.token}`);
    const create = (body: object) => auth(request(ctx.app).post('/v1/webhooks')).send(body);

    it('refuses URLs to private, loopback, link-local, unique-local, CGNAT, multicast and unspecified addresses, and says why', async () => {
      const before = await orgSnapshot(ctx, admin.orgId);
      const refused: [string, string][] = [
        ['http://10.0.0.1/hook', 'a private address'],
        ['https://10.0.0.1/hook', 'a private address'],
        ['https://192.168.1.20/', 'a private address'],
        ['https://172.16.5.4/', 'a private address'],
        ['http://169.254.169.254/latest/meta-data/', 'a link-local address'],
        ['https://169.254.169.254/', 'a link-local address'],
        ['https://[::1]/hook', 'a loopback address'],
        ['https://127.0.0.1:8443/', 'a loopback address'],
        ['https://[::ffff:127.0.0.1]/', 'a loopback address'],
        ['https://[::ffff:a00:1]/', 'a private address'],
        ['https://[fd00::1]/', 'a unique-local address'],
        ['https://[fe80::1]/', 'a link-local address'],
        ['https://100.64.0.1/', 'a CGNAT (shared address space) address'],
        ['https://224.0.0.1/', 'a multicast address'],
        ['https://0.0.0.0/', 'an unspecified address'],
        ['https://[::]/', 'an unspecified address'],
        // The URL parser's other spellings of an address are the same address.
        ['https://0x7f.1/', 'a loopback address'],
        ['https://2130706433/', 'a loopback address'],
        ['https://localhost/', 'a loopback name'],
        ['https://hooks.localhost/', 'a loopback name'],
      ];
      for (const [url, why] of refused) {
        const res = await create({ url, events: ['key.revoked'] });
        expect400(res, 'url');
        expect(res.body.detail, url).toContain(why);
      }
      expect(await orgSnapshot(ctx, admin.orgId)).toEqual(before);
    });

    it('refuses http://, other schemes, credentials in the URL, fragments and non-URLs', async () => {
      const cases: [string, string][] = [
        ['http://hooks.example.com/in', 'must be an https:// URL'],
        ['ftp://hooks.example.com/in', 'must be an https:// URL'],
        ['file:///etc/passwd', 'must be an https:// URL'],
        ['https://user:pass@hooks.example.com/in', 'must not hold a user name or password'],
        ['https://token@hooks.example.com/in', 'must not hold a user name or password'],
        ['https://hooks.example.com/in#frag', 'must not have a fragment'],
        ['hooks.example.com/in', 'expected an absolute https:// URL'],
        ['', 'expected an https:// URL'],
        [`https://hooks.example.com/${'a'.repeat(2001)}`, 'expected at most 2000 characters'],
      ];
      for (const [url, why] of cases) {
        const res = await create({ url, events: ['key.revoked'] });
        expect400(res, 'url');
        expect(res.body.detail, url).toContain(why);
      }
    });

    it('refuses unknown or no event types, unknown fields and wrong types, naming the field', async () => {
      expect400(await create({ ...OK, events: ['key.stolen'] }), 'events');
      expect400(await create({ ...OK, events: [] }), 'events');
      expect400(await create({ url: OK.url }), 'events');
      expect400(await create({ events: OK.events }), 'url');
      expect400(await create({ ...OK, secret: 'whsec_mine' }), 'secret');
      expect400(await create({ ...OK, description: 'x'.repeat(1001) }), 'description');
      expect400(await create({ ...OK, url: 42 }), 'url');
      const res = await auth(request(ctx.app).post('/v1/webhooks')).set('Content-Type', 'text/plain').send('url=x');
      expect(res.status).toBe(415);
    });

    it(`refuses the ${WEBHOOKS_PER_ORG_MAX + 1}th webhook of an org with 409`, async () => {
      for (let i = 0; i < WEBHOOKS_PER_ORG_MAX; i++) await create({ ...OK, url: `${OK.url}/${i}` }).expect(201);
      const res = await create(OK).expect(409);
      expect(res.body).toMatchObject({ code: 'conflict', detail: expect.stringContaining(`at most ${WEBHOOKS_PER_ORG_MAX} webhooks`) });
    });

    it('answers 404 for a webhook that does not exist, and 400 for what is not a webhook id', async () => {
      for (const [method, path] of [
        ['get', `/v1/webhooks/${MISSING}`],
        ['patch', `/v1/webhooks/${MISSING}`],
        ['delete', `/v1/webhooks/${MISSING}`],
        ['post', `/v1/webhooks/${MISSING}/rotate-secret`],
        ['get', `/v1/webhooks/${MISSING}/deliveries`],
      ] as const) {
        const res = await auth(request(ctx.app)[method](path)).send(method === 'patch' ? { enabled: false } : undefined);
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body).toMatchObject({ code: 'not_found', detail: `no webhook ${MISSING} in this organization` });
      }
      expect400(await auth(request(ctx.app).get('/v1/webhooks/key_01JD0000000000000000000000')), 'webhook_id');
      expect400(await auth(request(ctx.app).get('/v1/webhooks/whk_nope/deliveries')), 'webhook_id');
    });

    it('refuses a change with nothing in it, a bad value, or a refused URL, and changes nothing', async () => {
      const id = (await create(OK).expect(201)).body.webhook.id as string;
      const before = await orgSnapshot(ctx, admin.orgId);
      const path = `/v1/webhooks/${id}`;
      expect400(await auth(request(ctx.app).patch(path)).send({}), 'expected at least one of url, events, description, enabled');
      expect400(await auth(request(ctx.app).patch(path)).send({ enabled: 'no' }), 'enabled');
      expect400(await auth(request(ctx.app).patch(path)).send({ url: 'http://169.254.169.254/' }), 'url');
      expect400(await auth(request(ctx.app).patch(path)).send({ events: [] }), 'events');
      expect400(await auth(request(ctx.app).patch(path)).send({ secret_encrypted: 'x' }), 'secret_encrypted');
      expect400(await auth(request(ctx.app).post(`${path}/rotate-secret`)).send({ secret: 'whsec_mine' }), 'secret');
      expect(await orgSnapshot(ctx, admin.orgId)).toEqual(before);
      const [row] = await ctx.db.selectFrom('webhooks').selectAll().where('id', '=', id).execute();
      expect(row).toMatchObject({ url: OK.url, disabled_at: null });
    });

    it('refuses bad list parameters', async () => {
      expect400(await auth(request(ctx.app).get('/v1/webhooks?limit=0')), 'limit');
      expect400(await auth(request(ctx.app).get('/v1/webhooks?cursor=junk')), 'cursor');
      expect400(await auth(request(ctx.app).get('/v1/webhooks?status=pending')), 'status');
      const id = (await create(OK).expect(201)).body.webhook.id as string;
      expect400(await auth(request(ctx.app).get(`/v1/webhooks/${id}/deliveries?status=lost`)), 'status');
      expect400(await auth(request(ctx.app).get(`/v1/webhooks/${id}/deliveries?limit=201`)), 'limit');
    });
  });
});
