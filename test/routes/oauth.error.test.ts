import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext, type TestCredentials } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'client authentication failed' };
const BASIC_CHALLENGE = 'Basic realm="scope-auth"';

describe.each(DIALECTS)('POST /oauth2/token, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    const post = (path = '/oauth2/token') => request(ctx.app).post(path).type('form');
    const viaBasic = (c: TestCredentials, body: string | object = 'grant_type=client_credentials') =>
      post().auth(c.keyId, c.secret).send(body);
    const viaPost = (c: TestCredentials, extra: object = {}) =>
      post().send({ grant_type: 'client_credentials', client_id: c.keyId, client_secret: c.secret, ...extra });

    /**
     * The refusal reasons recorded for the key, once every aggregated count is written: refusals
     * anyone can cause (unknown key, org mismatch, throttled) share one event per org, source and
     * minute, which names the key ids tried.
     */
    async function refusalReasons(keyId: string): Promise<string[]> {
      await ctx.deps.refusalAudit.flush({ all: true });
      const rows = await ctx.db.selectFrom('audit_events').select(['details', 'target_id']).where('action', '=', 'token.refused').orderBy('id').execute();
      return rows
        .map((r) => ({ target: r.target_id, details: JSON.parse(r.details) as { reason: string; key_ids?: string[] } }))
        .filter((e) => e.target === keyId || (e.target === null && e.details.key_ids?.includes(keyId)))
        .map((e) => e.details.reason);
    }

    async function useCount(keyId: string): Promise<number> {
      await ctx.deps.lastUsed.flush();
      const row = await ctx.db.selectFrom('api_keys').select('use_count').where('id', '=', keyId).executeTakeFirstOrThrow();
      return row.use_count;
    }

    describe('malformed requests are invalid_request (400), never 5xx', () => {
      it('refuses a JSON body', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const res = await request(ctx.app)
          .post('/oauth2/token')
          .auth(client.keyId, client.secret)
          .send({ grant_type: 'client_credentials' })
          .expect(400);
        expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the body must be application/x-www-form-urlencoded' });
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['pragma']).toBe('no-cache');
      });

      it('refuses a request without a body', async () => {
        const res = await request(ctx.app).post('/oauth2/token').expect(400);
        expect(res.body.error).toBe('invalid_request');
      });

      it('refuses a request without grant_type', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const res = await viaBasic(client, 'scope=tools:deploy').expect(400);
        expect(res.body).toEqual({ error: 'invalid_request', error_description: 'grant_type is required' });
      });

      it.each(['grant_type', 'client_id', 'client_secret', 'scope'])('refuses the parameter %s given twice', async (name) => {
        const client = await ctx.createClient(['tools:deploy']);
        const params = new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: client.keyId,
          client_secret: client.secret,
          scope: 'tools:deploy',
        });
        params.append(name, params.get(name)!);
        const res = await post().send(params.toString()).expect(400);
        expect(res.body).toEqual({ error: 'invalid_request', error_description: `the parameter ${name} is repeated` });
        expect(await useCount(client.keyId)).toBe(0);
      });

      it.each(['client_secret', 'client_id'])('refuses %s in the query string, even with otherwise valid credentials', async (name) => {
        const client = await ctx.createClient(['tools:deploy']);
        const value = name === 'client_secret' ? client.secret : client.keyId;
        await viaPost(client).expect(200);
        const res = await post(`/oauth2/token?${name}=${value}`)
          .send({ grant_type: 'client_credentials', client_id: client.keyId, client_secret: client.secret })
          .expect(400);
        expect(res.body).toEqual({ error: 'invalid_request', error_description: 'client credentials must not be sent in the URL' });
        expect(await useCount(client.keyId)).toBe(1);
      });

      it('refuses HTTP Basic and client_secret in the body at once', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const res = await viaBasic(client, { grant_type: 'client_credentials', client_id: client.keyId, client_secret: client.secret }).expect(400);
        expect(res.body).toEqual({
          error: 'invalid_request',
          error_description: 'use one client authentication method: HTTP Basic or client_secret in the body, not both',
        });
        expect(await useCount(client.keyId)).toBe(0);
      });

      it('refuses a body client_id that names another client than the Basic credentials', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const other = await ctx.createClient(['tools:deploy']);
        const res = await viaBasic(client, { grant_type: 'client_credentials', client_id: other.keyId }).expect(400);
        expect(res.body.error).toBe('invalid_request');
      });

      it.each([
        ['no credentials after the scheme', 'Basic'],
        ['characters outside base64', 'Basic !!!'],
        ['no colon in the decoded value', `Basic ${Buffer.from('key_only').toString('base64')}`],
        ['a broken percent-escape', `Basic ${Buffer.from('key_x:%E0%A4%A').toString('base64')}`],
      ])('refuses Basic credentials with %s', async (_what, header) => {
        const res = await post().set('Authorization', header).send('grant_type=client_credentials').expect(400);
        expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the Authorization header is not well-formed Basic credentials' });
      });

      it('refuses a body over 64 KiB with 413 and the OAuth error body, not 500', async () => {
        const res = await post().send(`grant_type=client_credentials&pad=${'x'.repeat(70_000)}`).expect(413);
        expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the request body exceeds 64 KiB' });
      });

      it('refuses an oversized parameter, naming it', async () => {
        const res = await post().send({ grant_type: 'client_credentials', client_id: 'k'.repeat(300), client_secret: 'x' }).expect(400);
        expect(res.body.error).toBe('invalid_request');
        expect(res.body.error_description).toContain('client_id');
      });
    });

    describe('grant types other than client_credentials are unsupported_grant_type (400)', () => {
      it.each(['authorization_code', 'password', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'])(
        'refuses grant_type=%s',
        async (grantType) => {
          const client = await ctx.createClient(['tools:deploy']);
          const res = await viaBasic(client, { grant_type: grantType }).expect(400);
          expect(res.body).toEqual({ error: 'unsupported_grant_type', error_description: 'the only supported grant_type is client_credentials' });
          expect(res.headers['cache-control']).toBe('no-store');
          expect(await useCount(client.keyId)).toBe(0);
        },
      );
    });

    describe('every credential failure is the same invalid_client (401)', () => {
      it('refuses a wrong secret sent by Basic with a Basic challenge, and audits it in the key’s org', async () => {
        const acme = await ctx.createOrg('acme');
        const client = await ctx.createClient(['tools:deploy'], { orgId: acme.org.id });
        const other = await ctx.createClient(['tools:deploy']);
        const res = await viaBasic({ ...client, secret: other.secret }).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(res.headers['www-authenticate']).toBe(BASIC_CHALLENGE);
        expect(res.headers['cache-control']).toBe('no-store');
        const events = await ctx.db.selectFrom('audit_events').select(['org_id', 'details']).where('target_id', '=', client.keyId).execute();
        expect(events).toEqual([{ org_id: acme.org.id, details: JSON.stringify({ reason: 'wrong_secret' }) }]);
      });

      it('refuses a wrong secret sent in the body without a challenge', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const other = await ctx.createClient(['tools:deploy']);
        const res = await viaPost({ ...client, secret: other.secret }).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(res.headers['www-authenticate']).toBeUndefined();
        expect(await refusalReasons(client.keyId)).toEqual(['wrong_secret']);
      });

      it('refuses an unknown key', async () => {
        const ghost = { ...ctx.rootCredentials, keyId: 'key_01JA0000000000000000000000' };
        expect((await viaBasic(ghost).expect(401)).body).toEqual(INVALID_CLIENT);
        expect((await viaPost(ghost).expect(401)).body).toEqual(INVALID_CLIENT);
      });

      it('refuses a revoked key', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        await viaBasic(client).expect(200);
        await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now() }).where('id', '=', client.keyId).execute();
        expect((await viaBasic(client).expect(401)).body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(client.keyId)).toEqual(['revoked']);
      });

      it('refuses a key at and after its expiry', async () => {
        const app = await ctx.createApp(ctx.root.org.id, ['tools:deploy']);
        const { key, secret } = await ctx.createKey(ctx.root.org.id, app.id, { expiresAt: ctx.clock.now() + 1000 });
        const client = { orgId: ctx.root.org.id, keyId: key.id, secret };
        await viaPost(client).expect(200);
        ctx.clock.advance(1000);
        expect((await viaPost(client).expect(401)).body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(client.keyId)).toEqual(['expired']);
      });

      it('refuses a key whose app was deleted', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        await ctx.db.updateTable('apps').set({ deleted_at: ctx.clock.now() }).where('id', '=', client.appId).execute();
        expect((await viaBasic(client).expect(401)).body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(client.keyId)).toEqual(['app_deleted']);
      });

      it('refuses a request with no client authentication, with a Basic challenge', async () => {
        const res = await post().send('grant_type=client_credentials').expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(res.headers['www-authenticate']).toBe(BASIC_CHALLENGE);
      });

      it('refuses client_id without client_secret', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const res = await post().send({ grant_type: 'client_credentials', client_id: client.keyId }).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
      });

      it('refuses an empty secret in Basic credentials', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const res = await post().auth(client.keyId, '').send('grant_type=client_credentials').expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(res.headers['www-authenticate']).toBe(BASIC_CHALLENGE);
      });

      it('refuses an Authorization scheme other than Basic', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const token = (await ctx.exchange(client).expect(200)).body.access_token as string;
        const res = await post().set('Authorization', `Bearer ${token}`).send('grant_type=client_credentials').expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(res.headers['www-authenticate']).toBe(BASIC_CHALLENGE);
      });
    });

    describe('scope requests beyond the grant are invalid_scope (400)', () => {
      it('refuses a scope the app was not granted, naming it', async () => {
        const client = await ctx.createClient(['agents:view']);
        const res = await viaBasic(client, { grant_type: 'client_credentials', scope: 'agents:view agents:edit' }).expect(400);
        expect(res.body).toEqual({ error: 'invalid_scope', error_description: 'scope not granted to this client: agents:edit' });
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['www-authenticate']).toBeUndefined();
      });

      it('refuses a scope that does not exist', async () => {
        const client = await ctx.createClient(['agents:view']);
        const res = await viaPost(client, { scope: 'nuclear:launch' }).expect(400);
        expect(res.body.error).toBe('invalid_scope');
      });
    });

    it('answers 405 with Allow: POST and the OAuth error body for GET', async () => {
      const res = await request(ctx.app).get('/oauth2/token').expect(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'GET is not allowed on /oauth2/token; allowed: POST' });
    });
  });
});
