import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import type { SecretHasher } from '../../src/domain/hashing.js';
import { generateSecret, newId } from '../../src/domain/credentials.js';
import { createLogger } from '../../src/logger.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { QueryCounter } from '../helpers/query-counter.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

function countingHasher(inner: SecretHasher) {
  const counts = { verify: 0 };
  const hasher: SecretHasher = {
    hash: (s) => inner.hash(s),
    verify: (h, s) => {
      counts.verify++;
      return inner.verify(h, s);
    },
  };
  return { hasher, counts };
}

describe.each(DIALECTS)('POST /v1/token, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({
        dialect: dialectCase.dialect,
        env: { SCOPE_AUTH_TRUST_PROXY: 'true', SCOPE_AUTH_THROTTLE_KEY_FAILURES: '3', SCOPE_AUTH_THROTTLE_IP_FAILURES: '6' },
      });
    });
    afterAll(async () => ctx?.close());

    const from = (ip: string, body: object) => request(ctx.app).post('/v1/token').set('X-Forwarded-For', ip).send(body);
    const bodyOf = (c: { orgId: string; keyId: string; secret: string }) => ({ org_id: c.orgId, key_id: c.keyId, secret: c.secret });

    it('rejects a secret with a bad checksum before any database read or argon2 work', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const counter = new QueryCounter();
      const { hasher, counts } = countingHasher(ctx.deps.hasher);
      const app = createApp({ ...ctx.deps, db: ctx.db.withPlugin(counter), hasher });
      const tampered = client.secret.slice(0, 10) + (client.secret[10] === 'A' ? 'B' : 'A') + client.secret.slice(11);
      await request(app).post('/v1/token').send(bodyOf({ ...client, secret: tampered })).expect(401);
      expect(counter.count).toBe(0);
      expect(counts.verify).toBe(0);
      // The same app does read and verify for a well-formed secret, so the counters do count.
      await request(app).post('/v1/token').send(bodyOf(client)).expect(200);
      expect(counter.count).toBeGreaterThan(0);
      expect(counts.verify).toBe(1);
    });

    it('answers every credential failure with byte-identical bodies and the same headers', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const other = await ctx.createClient(['tools:deploy']);
      const attempts = [
        { ...client, secret: other.secret },
        { ...client, keyId: 'key_01JA0000000000000000000001' },
        { ...client, orgId: 'org_01JA0000000000000000000002' },
        { ...client, secret: 'secret_short' },
      ];
      const responses = [];
      for (const [i, attempt] of attempts.entries()) responses.push(await from(`10.9.0.${i}`, bodyOf(attempt)).expect(401));
      const texts = new Set(responses.map((r) => r.text));
      expect(texts.size).toBe(1);
      for (const r of responses) {
        expect(r.headers['cache-control']).toBe('no-store');
        expect(r.headers['www-authenticate']).toBeUndefined();
      }
    });

    it('throttles repeated failures for one key from one address with 429 and Retry-After', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const wrong = { ...client, secret: (await ctx.createClient(['tools:deploy'])).secret };
      for (let i = 0; i < 3; i++) await from('10.1.0.1', bodyOf(wrong)).expect(401);
      const res = await from('10.1.0.1', bodyOf(wrong)).expect(429);
      expect(res.body).toEqual({ error: 'slow_down', error_description: expect.any(String) });
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
      // Even the right secret is refused from that address while throttled…
      await from('10.1.0.1', bodyOf(client)).expect(429);
      // …but the key's owner calling from elsewhere is never locked out.
      await from('10.1.0.2', bodyOf(client)).expect(200);
    });

    it('throttles an address that fails across many keys', async () => {
      for (let i = 0; i < 6; i++) {
        await from('10.2.0.1', { org_id: ctx.root.org.id, key_id: `key_01JA00000000000000000000${String(i).padStart(2, '0')}`, secret: 'secret_x' }).expect(401);
      }
      const client = await ctx.createClient(['tools:deploy']);
      await from('10.2.0.1', bodyOf(client)).expect(429);
      await from('10.2.0.3', bodyOf(client)).expect(200);
    });

    it('writes a flood of unknown key ids against an org as one event a minute with its count, and nothing for an org that does not exist', async () => {
      const victim = await ctx.createOrg('victim');
      const auditRows = async (orgId: string) =>
        (await ctx.db.selectFrom('audit_events').select('details').where('org_id', '=', orgId).where('action', '=', 'token.refused').execute()).map(
          (row) => JSON.parse(row.details) as { reason: string; count: number },
        );
      const ghostOrg = `org_${'0'.repeat(26)}`;
      for (let i = 0; i < 150; i++) {
        const keyId = newId('key', ctx.clock.now() + i);
        await from('10.77.0.1', { org_id: i % 2 === 0 ? victim.org.id : ghostOrg, key_id: keyId, secret: generateSecret() });
      }
      // A few unknown keys, then throttled ones (the limit here is 6 an address): for each reason the first event at once, the rest counted.
      const now = await auditRows(victim.org.id);
      expect(now.length).toBeLessThanOrEqual(2);
      await ctx.deps.refusalAudit.flush({ all: true });
      const all = await auditRows(victim.org.id);
      expect(all.length).toBeLessThanOrEqual(4);
      expect(all.reduce((sum, e) => sum + e.count, 0)).toBe(75);
      expect(await auditRows(ghostOrg)).toEqual([]);
    });

    it('writes one audit event for a throttled flood, not one per request', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const wrong = { ...client, secret: (await ctx.createClient(['tools:deploy'])).secret };
      for (let i = 0; i < 3; i++) await from('10.3.0.1', bodyOf(wrong)).expect(401);
      for (let i = 0; i < 5; i++) await from('10.3.0.1', bodyOf(wrong)).expect(429);
      const events = await ctx.db.selectFrom('audit_events').select(['details', 'ip', 'org_id']).where('target_id', '=', client.keyId).execute();
      const reasons = events.map((e) => JSON.parse(e.details).reason);
      expect(reasons.filter((r) => r === 'wrong_secret')).toHaveLength(3);
      expect(reasons.filter((r) => r === 'throttled')).toHaveLength(1);
      expect(events.every((e) => e.ip === '10.3.0.1' && e.org_id === client.orgId)).toBe(true);
    });

    it('stores only an argon2id hash and a 4-character hint of the secret', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const row = await ctx.db.selectFrom('api_keys').selectAll().where('id', '=', client.keyId).executeTakeFirstOrThrow();
      expect(row.secret_hash).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
      expect(row.secret_hint).toBe(client.secret.slice(-4));
      expect(JSON.stringify(row)).not.toContain(client.secret.slice(7, 30));
    });

    it('never writes a secret, token or hash to the logs or the audit log', async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const app = createApp({ ...ctx.deps, logger: createLogger('trace', sink) });
      const client = await ctx.createClient(['tools:deploy']);
      const ok = await request(app).post('/v1/token').set('X-Forwarded-For', '10.4.0.1').send(bodyOf(client)).expect(200);
      const wrongSecret = (await ctx.createClient(['tools:deploy'])).secret;
      await request(app).post('/v1/token').set('X-Forwarded-For', '10.4.0.1').send(bodyOf({ ...client, secret: wrongSecret })).expect(401);
      await request(app).post('/v1/token?secret=' + client.secret).set('X-Forwarded-For', '10.4.0.1').send(bodyOf(client)).expect(200);
      const logs = lines.join('');
      expect(lines.length).toBeGreaterThan(0);
      expect(logs).toContain('"outcome":"invalid_client","reason":"wrong_secret"');
      for (const forbidden of [client.secret, wrongSecret, ok.body.access_token, '$argon2id$']) expect(logs).not.toContain(forbidden);
      const audit = JSON.stringify(await ctx.db.selectFrom('audit_events').selectAll().execute());
      for (const forbidden of [client.secret, wrongSecret, '$argon2id$']) expect(audit).not.toContain(forbidden);
    });
  });
});

describe('POST /v1/token when the database fails', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
  });
  afterAll(async () => ctx?.close().catch(() => undefined));

  it('answers a generic 500 with no stack, SQL or path', async () => {
    const client = await ctx.createClient(['tools:deploy']);
    await ctx.database.handle.close();
    const res = await ctx.exchange(client).expect(500);
    expect(res.body).toEqual({ error: 'server_error', error_description: 'an unexpected error occurred' });
    expect(res.text).not.toMatch(/select|sqlite|at |\/work|node_modules/i);
  });
});
