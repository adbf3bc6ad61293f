import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { orgSnapshot } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

describe.each(DIALECTS)('/v1/apps, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let admin: Awaited<ReturnType<TestContext['tokenFor']>>;
    let appId: string;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      admin = await ctx.tokenFor(['admin.apps:full']);
      appId = (await ctx.createApp(admin.orgId, ['tools:deploy'])).id;
    });
    beforeEach(async () => {
      admin.token = await ctx.tokenOf(admin);
    });
    afterAll(async () => ctx?.close());

    const bearer = (req: request.Test) => req.set('Authorization', `Bearer ${admin.token}`);
    const create = (body: unknown) => bearer(request(ctx.app).post('/v1/apps')).send(body as object);
    const patch = (body: unknown, id = appId) => bearer(request(ctx.app).patch(`/v1/apps/${id}`)).send(body as object);

    async function expectInvalid(res: request.Test | Promise<request.Response>, ...mentions: string[]) {
      const r = await res;
      expect(r.status).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.body).toMatchObject({ type: 'urn:scope-auth:problem:invalid_request', title: 'Invalid request', status: 400, code: 'invalid_request' });
      for (const m of mentions) expect(r.body.detail).toContain(m);
      return r;
    }

    it('refuses an unknown scope with a 400 naming it and suggesting the close match, and creates nothing', async () => {
      const before = await orgSnapshot(ctx, admin.orgId);
      const res = await expectInvalid(create({ name: 'x', scopes: ['agents:veiw', 'runtime:run', 'nope:nothing'] }), '"agents:veiw"', '"agents:view"', '"nope:nothing"');
      expect(res.body.unknown_scopes).toEqual(['agents:veiw', 'nope:nothing']);
      expect(await orgSnapshot(ctx, admin.orgId)).toEqual(before);
      await expectInvalid(patch({ scopes: ['tools:deplo'] }), '"tools:deplo"', '"tools:deploy"');
    });

    it('bounds scopes to 200 names of at most 128 characters', async () => {
      await expectInvalid(create({ name: 'x', scopes: Array.from({ length: 201 }, () => 'tools:deploy') }), 'scopes', 'at most 200 scopes');
      await expectInvalid(create({ name: 'x', scopes: ['a'.repeat(129)] }), 'scopes.0', 'at most 128 characters');
      await expectInvalid(patch({ scopes: ['a'.repeat(129)] }), 'scopes.0');
    });

    it('answers the worst body of unknown scopes at once, suggesting for the first three only', async () => {
      const worst = Array.from({ length: 200 }, (_, i) => `agents:vie${'w'.repeat(115)}${String(i).padStart(3, '0')}`);
      const near = Array.from({ length: 200 }, (_, i) => `tools:deplo${String(i).padStart(3, '0')}`);
      for (const scopes of [worst, near]) {
        const res = await expectInvalid(create({ name: 'x', scopes }), 'unknown scopes');
        expect(res.body.unknown_scopes).toHaveLength(200);
        expect((res.body.detail as string).match(/did you mean/g)?.length ?? 0).toBeLessThanOrEqual(3);
      }
    });

    it('requires a name of 1 to 100 characters', async () => {
      await expectInvalid(create({ scopes: [] }), 'name');
      await expectInvalid(create({ name: '', scopes: [] }), 'name', '1 to 100');
      await expectInvalid(create({ name: '   ', scopes: [] }), 'name');
      await expectInvalid(create({ name: 'x'.repeat(101), scopes: [] }), 'name', '1 to 100');
      await expectInvalid(patch({ name: 'x'.repeat(101) }), 'name');
      await create({ name: 'x'.repeat(100), scopes: [] }).expect(201);
    });

    it('requires scopes as an array of strings', async () => {
      await expectInvalid(create({ name: 'x' }), 'scopes');
      await expectInvalid(create({ name: 'x', scopes: 'agents:view' }), 'scopes');
      await expectInvalid(create({ name: 'x', scopes: [1] }), 'scopes.0');
    });

    it('bounds token_ttl_seconds to 60 … SCOPE_AUTH_TOKEN_TTL_MAX and audience to a non-empty string of 200', async () => {
      await expectInvalid(create({ name: 'x', scopes: [], token_ttl_seconds: 59 }), 'token_ttl_seconds', '60 to 3600');
      await expectInvalid(create({ name: 'x', scopes: [], token_ttl_seconds: 3601 }), 'token_ttl_seconds');
      await expectInvalid(create({ name: 'x', scopes: [], token_ttl_seconds: 90.5 }), 'token_ttl_seconds');
      await expectInvalid(create({ name: 'x', scopes: [], token_ttl_seconds: '900' }), 'token_ttl_seconds');
      await expectInvalid(create({ name: 'x', scopes: [], audience: '' }), 'audience');
      await expectInvalid(create({ name: 'x', scopes: [], audience: 'a'.repeat(201) }), 'audience');
      await expectInvalid(create({ name: 'x', scopes: [], description: 'd'.repeat(1001) }), 'description');
    });

    it('refuses an audience the catalogue does not list (here: none), naming the default one, and creates nothing', async () => {
      const before = await orgSnapshot(ctx, admin.orgId);
      const res = await expectInvalid(create({ name: 'x', scopes: [], audience: 'https://api.example.com' }), 'audience', '"https://api.example.com"', '"http://scope-auth.test"');
      expect(res.body.allowed_audiences).toEqual(['http://scope-auth.test']);
      expect(await orgSnapshot(ctx, admin.orgId)).toEqual(before);
    });

    it('refuses to set an audience that is no longer listed, even the one the app already has, and changes nothing', async () => {
      const legacy = await ctx.createApp(admin.orgId, ['tools:deploy'], { audience: 'https://retired.example' });
      const before = await orgSnapshot(ctx, admin.orgId);
      await expectInvalid(patch({ audience: 'https://retired.example' }, legacy.id), 'audience', '"https://retired.example" is not an audience of this server');
      await expectInvalid(patch({ name: 'renamed', audience: 'https://elsewhere.example' }, legacy.id), 'audience');
      expect(await orgSnapshot(ctx, admin.orgId)).toEqual(before);
    });

    it('refuses unknown fields, naming them', async () => {
      await expectInvalid(create({ name: 'x', scopes: [], org_id: ctx.root.org.id }), 'org_id');
      await expectInvalid(patch({ created_by: 'me' }), 'created_by');
    });

    it('refuses a PATCH with nothing in it', async () => {
      await expectInvalid(patch({}), 'at least one of');
    });

    it('refuses a body that is not a JSON object', async () => {
      await expectInvalid(bearer(request(ctx.app).post('/v1/apps')).set('Content-Type', 'application/json').send('{"name":'), 'not valid JSON');
      await expectInvalid(create([{ name: 'x', scopes: [] }]));
      await expectInvalid(bearer(request(ctx.app).post('/v1/apps')).set('Content-Type', 'application/json').send('null'));
      const form = await bearer(request(ctx.app).post('/v1/apps')).type('form').send({ name: 'x' });
      expect(form.status).toBe(415);
      expect(form.body.code).toBe('unsupported_media_type');
    });

    it('answers 413 to a body over 64 KiB', async () => {
      const res = await create({ name: 'x', scopes: [], description: 'd'.repeat(70_000) });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('payload_too_large');
    });

    it('answers 400 for an id that is not an app id and 404 for an app that does not exist', async () => {
      await expectInvalid(bearer(request(ctx.app).get('/v1/apps/not-an-id')), 'app_id');
      await expectInvalid(bearer(request(ctx.app).get(`/v1/apps/${admin.keyId}`)), 'app_id');
      const missing = 'app_01J00000000000000000000000';
      const res = await bearer(request(ctx.app).get(`/v1/apps/${missing}`)).expect(404);
      expect(res.body).toMatchObject({ code: 'not_found', detail: `no app ${missing} in this organization` });
      await patch({ name: 'y' }, missing).expect(404);
      await bearer(request(ctx.app).delete(`/v1/apps/${missing}`)).expect(404);
      await bearer(request(ctx.app).get(`/v1/apps/${missing}/keys`)).expect(404);
      await bearer(request(ctx.app).post(`/v1/apps/${missing}/keys`)).send({ name: 'k' }).expect(404);
    });

    it('answers 404 to a second delete', async () => {
      const doomed = await ctx.createApp(admin.orgId, []);
      await bearer(request(ctx.app).delete(`/v1/apps/${doomed.id}`)).expect(204);
      await bearer(request(ctx.app).delete(`/v1/apps/${doomed.id}`)).expect(404);
      await patch({ name: 'zombie' }, doomed.id).expect(404);
    });

    it('validates list parameters: limit 1–200, an opaque cursor of this server, nothing unknown', async () => {
      const list = (query: string) => bearer(request(ctx.app).get(`/v1/apps?${query}`));
      await expectInvalid(list('limit=0'), 'limit');
      await expectInvalid(list('limit=201'), 'limit', '1 to 200');
      await expectInvalid(list('limit=ten'), 'limit');
      await expectInvalid(list('limit=-1'), 'limit');
      await expectInvalid(list('limit=1&limit=2'), 'limit');
      await expectInvalid(list('cursor=garbage'), 'cursor');
      await expectInvalid(list(`cursor=${Buffer.from('c1:not-an-id').toString('base64url')}`), 'cursor');
      await expectInvalid(list('sort=name'), 'sort');
      await list('limit=1').expect(200);
      await list('limit=200').expect(200);
    });
  });
});
