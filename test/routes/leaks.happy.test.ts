// POST /v1/leaks as a reporter meets it: a leaked secret of a stored key revokes that key at
// once (reason leaked, actor system, where it was found in the audit event), and every report
// gets its verdict in GitHub's feedback shape, in order.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretDigest } from '../../src/domain/secret-digest.js';
import { generateSecret } from '../../src/domain/credentials.js';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { report, sha256 } from '../helpers/leaks.js';

const GITHUB_URL = 'https://github.com/octocat/Hello-World/blob/12345600b9cbe38a219f39a9941c9319b600c002/foo/bar.txt';

describe.each(DIALECTS)('POST /v1/leaks, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_TRUST_PROXY: 'true', SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE: '1000' } });
    });
    afterAll(async () => ctx?.close());

    const keyRow = (keyId: string) => ctx.db.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();

    it('revokes the key a reported secret belongs to, at once: true_positive, reason leaked, audited with the URL; its exchange then fails', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await ctx.exchange(client).expect(200);
      const res = await report(ctx.app, [{ token: client.secret, type: 'scope_auth_secret', url: GITHUB_URL, source: 'content' }], { ip: '203.0.113.9' }).expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual([{ token_hash: sha256(client.secret), token_type: 'scope_auth_secret', label: 'true_positive' }]);

      const row = await keyRow(client.keyId);
      expect(row).toMatchObject({ revoked_at: ctx.clock.now(), revoked_by: 'system', revoke_reason: 'leaked' });
      const events = await auditEvents(ctx, client.orgId, { action: 'key.revoked', target_id: client.keyId });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        actor: 'system',
        ip: '203.0.113.9',
        target_type: 'key',
        details: { app_id: client.appId, name: 'test key', reason: 'leaked', url: GITHUB_URL, source: 'content', reported_via: 'endpoint' },
      });
      const refused = await ctx.exchange(client).expect(401);
      expect(refused.body.error).toBe('invalid_client');
    });

    it('answers true_positive again for a secret reported twice, and audits the revocation once', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const first = await report(ctx.app, [{ token: client.secret }]).expect(200);
      ctx.clock.advance(60_000);
      const second = await report(ctx.app, [{ token: client.secret, url: 'https://example.com/elsewhere' }]).expect(200);
      expect(second.body).toEqual(first.body);
      expect(second.body).toEqual([{ token_hash: sha256(client.secret), label: 'true_positive' }]);
      expect(await auditEvents(ctx, client.orgId, { action: 'key.revoked', target_id: client.keyId })).toHaveLength(1);
      // The first revocation stands as it was.
      expect((await keyRow(client.keyId)).revoked_at).toBe(ctx.clock.now() - 60_000);
    });

    it('keeps a key revoked by an admin as it was, and still labels its secret true_positive', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      await ctx.db.updateTable('api_keys').set({ revoked_at: ctx.clock.now(), revoked_by: 'usr_admin', revoke_reason: 'rotated' }).where('id', '=', client.keyId).execute();
      const res = await report(ctx.app, [{ token: client.secret }]).expect(200);
      expect(res.body[0].label).toBe('true_positive');
      expect(await keyRow(client.keyId)).toMatchObject({ revoked_by: 'usr_admin', revoke_reason: 'rotated' });
      expect(await auditEvents(ctx, client.orgId, { action: 'key.revoked', target_id: client.keyId })).toEqual([]);
    });

    it('answers each report of a batch in order, a token sent twice verified once and labelled alike', async () => {
      const a = await ctx.createClient(['tools:deploy']);
      const b = await ctx.createClient(['tools:deploy']);
      const stranger = generateSecret();
      const body = [
        { token: a.secret, type: 't' },
        { token: stranger },
        { token: 'not a secret at all', type: 'other' },
        { token: b.secret, url: null, source: null },
        { token: a.secret },
      ];
      const res = await report(ctx.app, body).expect(200);
      expect(res.body).toEqual([
        { token_hash: sha256(a.secret), token_type: 't', label: 'true_positive' },
        { token_hash: sha256(stranger), label: 'false_positive' },
        { token_hash: sha256('not a secret at all'), token_type: 'other', label: 'false_positive' },
        { token_hash: sha256(b.secret), label: 'true_positive' },
        { token_hash: sha256(a.secret), label: 'true_positive' },
      ]);
      expect(await auditEvents(ctx, a.orgId, { action: 'key.revoked', target_id: a.keyId })).toHaveLength(1);
      const revokedB = await auditEvents(ctx, b.orgId, { action: 'key.revoked', target_id: b.keyId });
      expect(revokedB[0]!.details).toMatchObject({ url: null, source: null });
    });

    it('accepts GitHub’s payload as it sends it, members it may add included', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const text = JSON.stringify([{ source: 'commit', token: client.secret, type: 'scope_auth_secret', url: 'https://example.com/base-repo-url/', extra: 1 }]);
      const res = await report(ctx.app, text).expect(200);
      expect(res.body).toEqual([{ token_hash: sha256(client.secret), token_type: 'scope_auth_secret', label: 'true_positive' }]);
    });

    it('takes GitLab’s token revocation payload too, its location as the URL', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const location = 'https://gitlab.example.com/acme/app/blob/abcdef/config.js';
      const res = await report(ctx.app, [{ type: 'gitleaks_rule_id_scope_auth_secret', token: client.secret, location }]).expect(200);
      expect(res.body[0].label).toBe('true_positive');
      const [event] = await auditEvents(ctx, client.orgId, { action: 'key.revoked', target_id: client.keyId });
      expect(event!.details).toMatchObject({ url: location, source: null });
    });

    it('keeps at most 2048 characters of the URL and 100 of the source in the audit event', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const url = `https://example.com/${'u'.repeat(3000)}`;
      await report(ctx.app, [{ token: client.secret, url, source: 's'.repeat(500) }]).expect(200);
      const [event] = await auditEvents(ctx, client.orgId, { action: 'key.revoked', target_id: client.keyId });
      expect(event!.details).toMatchObject({ url: url.slice(0, 2048), source: 's'.repeat(100) });
    });

    it('finds the keys of every way a key is made: the admin API’s create and roll, and a new org’s admin key', async () => {
      const admin = await ctx.tokenFor(['admin.apps:full']);
      const auth = (r: request.Test) => r.set('Authorization', `Bearer ${admin.token}`);
      const appId = (await auth(request(ctx.app).post('/v1/apps')).send({ name: 'svc', scopes: ['tools:deploy'] }).expect(201)).body.id as string;
      const created = (await auth(request(ctx.app).post(`/v1/apps/${appId}/keys`)).send({ name: 'ci' }).expect(201)).body;
      const rolled = (await auth(request(ctx.app).post(`/v1/keys/${created.key.id}/roll`)).send({ grace_seconds: 3600 }).expect(201)).body;
      const org = await ctx.createOrg('leaky');
      const res = await report(ctx.app, [{ token: created.secret }, { token: rolled.secret }, { token: org.secret }]).expect(200);
      expect(res.body.map((v: { label: string }) => v.label)).toEqual(['true_positive', 'true_positive', 'true_positive']);
      for (const id of [created.key.id, rolled.key.id, org.key.id]) expect((await keyRow(id)).revoke_reason).toBe('leaked');
    });

    it('stores each new key’s digest as the hex HMAC-SHA256 of its secret under a key derived from the KEK', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const row = await keyRow(client.keyId);
      expect(row.secret_digest).toMatch(/^[0-9a-f]{64}$/);
      expect(row.secret_digest).toBe(createSecretDigest(ctx.kek)(client.secret));
    });
  });
});
