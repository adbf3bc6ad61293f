import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

const INVALID_CLIENT = { error: 'invalid_client', error_description: 'client authentication failed' };

describe.each(DIALECTS)('POST /v1/token, errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());

    const post = () => request(ctx.app).post('/v1/token');

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

    describe('malformed requests are invalid_request (400), never 5xx', () => {
      it('refuses a body that is not JSON', async () => {
        const res = await post().type('form').send('org_id=a&key_id=b&secret=c').expect(400);
        expect(res.body).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/application\/json/) });
        expect(res.headers['cache-control']).toBe('no-store');
      });

      it('refuses malformed JSON', async () => {
        const res = await post().set('content-type', 'application/json').send('{"org_id": ').expect(400);
        expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the request body is not valid JSON' });
      });

      it('refuses a request without a body', async () => {
        const res = await post().expect(400);
        expect(res.body.error).toBe('invalid_request');
      });

      it.each(['org_id', 'key_id', 'secret'])('names the missing field %s', async (field) => {
        const body: Record<string, string> = { org_id: 'org_x', key_id: 'key_x', secret: 'secret_x' };
        delete body[field];
        const res = await post().send(body).expect(400);
        expect(res.body.error).toBe('invalid_request');
        expect(res.body.error_description).toContain(field);
      });

      it('refuses ill-typed fields', async () => {
        const res = await post().send({ org_id: 'org_x', key_id: 42, secret: 'secret_x' }).expect(400);
        expect(res.body.error_description).toContain('key_id');
      });

      it('refuses unknown fields', async () => {
        const res = await post().send({ org_id: 'org_x', key_id: 'key_x', secret: 'secret_x', admin: true }).expect(400);
        expect(res.body.error).toBe('invalid_request');
      });

      it('refuses a JSON array body', async () => {
        await post().send([1, 2]).expect(400);
      });

      it('refuses a body over 64 KiB with 413 and the OAuth error body, not 500', async () => {
        const res = await post().send({ org_id: 'org_x', key_id: 'key_x', secret: 'x'.repeat(70_000) }).expect(413);
        expect(res.body).toEqual({ error: 'invalid_request', error_description: 'the request body exceeds 64 KiB' });
      });

      it('refuses oversized field values', async () => {
        const res = await post().send({ org_id: 'org_x', key_id: 'k'.repeat(65), secret: 'secret_x' }).expect(400);
        expect(res.body.error_description).toContain('key_id');
      });
    });

    describe('every credential failure is the same invalid_client (401)', () => {
      it('refuses an unknown key and audits it in the claimed org', async () => {
        const ghost = { ...ctx.rootCredentials, keyId: 'key_01JA0000000000000000000000' };
        const res = await ctx.exchange(ghost).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(ghost.keyId)).toEqual(['unknown_key']);
      });

      it('refuses an unknown org', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const res = await ctx.exchange({ ...client, orgId: 'org_01JA0000000000000000000000' }).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(client.keyId)).toEqual(['org_mismatch']);
      });

      it('refuses a well-formed but wrong secret', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const other = await ctx.createClient(['tools:deploy']);
        const res = await ctx.exchange({ ...client, secret: other.secret }).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(client.keyId)).toEqual(['wrong_secret']);
      });

      it('refuses a secret whose checksum does not match, without auditing noise', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const last = client.secret.at(-1) === 'a' ? 'b' : 'a';
        const res = await ctx.exchange({ ...client, secret: client.secret.slice(0, -1) + last }).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(client.keyId)).toEqual([]);
      });

      it('refuses the right key and secret presented with another org id', async () => {
        const other = await ctx.createOrg('other');
        const client = await ctx.createClient(['tools:deploy']);
        const res = await ctx.exchange({ ...client, orgId: other.org.id }).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(client.keyId)).toEqual(['org_mismatch']);
      });

      it('refuses a revoked key', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        await ctx.exchange(client).expect(200);
        await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now() }).where('id', '=', client.keyId).execute();
        const res = await ctx.exchange(client).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(client.keyId)).toEqual(['revoked']);
      });

      it('refuses a key at and after its expiry', async () => {
        const created = await ctx.createApp(ctx.root.org.id, ['tools:deploy']);
        const { key, secret } = await ctx.createKey(ctx.root.org.id, created.id, { expiresAt: ctx.clock.now() + 1000 });
        const client = { orgId: ctx.root.org.id, keyId: key.id, secret };
        await ctx.exchange(client).expect(200);
        ctx.clock.advance(1000);
        const res = await ctx.exchange(client).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(client.keyId)).toEqual(['expired']);
      });

      it('refuses a key whose app was deleted', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        await ctx.db.updateTable('apps').set({ deleted_at: ctx.clock.now() }).where('id', '=', client.appId).execute();
        const res = await ctx.exchange(client).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(client.keyId)).toEqual(['app_deleted']);
      });

      it('refuses a deleted key as unknown', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        await ctx.db.deleteFrom('api_keys').where('id', '=', client.keyId).execute();
        const res = await ctx.exchange(client).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
        expect(await refusalReasons(client.keyId)).toEqual(['unknown_key']);
      });

      it('refuses ids that are not ids', async () => {
        const res = await ctx.exchange({ orgId: 'nope', keyId: 'also-nope', secret: ctx.rootCredentials.secret }).expect(401);
        expect(res.body).toEqual(INVALID_CLIENT);
      });
    });

    describe('scope requests beyond the grant are invalid_scope (400)', () => {
      it('refuses a scope the app was not granted, naming it', async () => {
        const client = await ctx.createClient(['agents:view']);
        const res = await ctx.exchange(client, 'agents:view agents:edit').expect(400);
        expect(res.body).toEqual({ error: 'invalid_scope', error_description: 'scope not granted to this client: agents:edit' });
        expect(res.headers['cache-control']).toBe('no-store');
      });

      it('refuses a scope that does not exist', async () => {
        const client = await ctx.createClient(['agents:view']);
        const res = await ctx.exchange(client, 'nuclear:launch').expect(400);
        expect(res.body.error).toBe('invalid_scope');
      });

      it('does not count a scope refusal as a credential failure', async () => {
        const client = await ctx.createClient(['agents:view']);
        for (let i = 0; i < 12; i++) await ctx.exchange(client, 'agents:full').expect(400);
        await ctx.exchange(client).expect(200);
      });
    });

    it('answers 404 problem+json for an unknown route', async () => {
      const res = await request(ctx.app).get('/v1/nothing-here').expect(404);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 404, code: 'not_found' });
    });
  });
});
