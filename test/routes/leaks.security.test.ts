// POST /v1/leaks is open to anybody, so: it tells a reporter nothing they did not know, junk
// costs an HMAC (argon2 only runs for a digest that matched), each client is throttled
// (across instances on PostgreSQL), GitHub's signatures are checked when its keys are
// configured, a report revokes only the key whose secret it holds, and no secret it carries
// is ever logged.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { generateSecret } from '../../src/domain/credentials.js';
import type { SecretHasher } from '../../src/domain/hashing.js';
import { prepareKey } from '../../src/domain/keys.js';
import { INVALID_SIGNATURE } from '../../src/routes/leaks.js';
import { createServices } from '../../src/services.js';
import { insertApiKey } from '../../src/store/api-keys.js';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { githubKeysJson, keysDir, newSigner, report, sha256, signedReport, type Signer } from '../helpers/leaks.js';
import { loggedApp } from '../helpers/log-lines.js';
import { testLogger } from '../helpers/test-logger.js';

const LIMIT = 3;
let addresses = 0;
/** An address of its own for each test, so that the throttle's counts of one never reach another. */
const freshIp = () => `198.51.100.${++addresses}`;

/** The secret with one character of its checksum changed: its shape, not its checksum. */
function wrongChecksum(secret: string): string {
  const last = secret.at(-1)!;
  return secret.slice(0, -1) + (last === 'a' ? 'b' : 'a');
}

describe.each(DIALECTS)('POST /v1/leaks, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let dir: ReturnType<typeof keysDir>;
    let github: Signer;
    let keysFile: string;
    beforeAll(async () => {
      dir = keysDir();
      github = newSigner('f9525bf080f75b3506ca1ead061add62b8633a346606dc5fe544e29231c6ee0d');
      keysFile = dir.write('secret_scanning.json', githubKeysJson([github, newSigner('old-key')]));
      ctx = await createTestContext({
        dialect: dialectCase.dialect,
        env: { SCOPE_AUTH_TRUST_PROXY: 'true', SCOPE_AUTH_LEAK_REPORTS_PER_MINUTE: String(LIMIT), SCOPE_AUTH_LEAK_REPORT_KEYS: keysFile },
      });
    });
    afterAll(async () => {
      await ctx?.close();
      dir?.remove();
    });

    const keyRow = (keyId: string) => ctx.db.selectFrom('api_keys').selectAll().where('id', '=', keyId).executeTakeFirstOrThrow();

    describe('what a report learns', () => {
      it('labels false_positive a well-formed secret no key has, a token with a wrong checksum, and the secret of a key created without a digest', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const { row, secret: undigested } = await prepareKey({ hasher: ctx.deps.hasher, secretDigest: () => null }, ctx.clock.now(), {
          orgId: client.orgId,
          appId: client.appId,
          name: 'before digests',
          expiresAt: null,
          actor: 'system',
        });
        await insertApiKey(ctx.db, row);
        const tokens = [generateSecret(), wrongChecksum(client.secret), undigested];
        const res = await report(ctx.app, tokens.map((token) => ({ token })), { ip: freshIp() }).expect(200);
        expect(res.body).toEqual(tokens.map((token) => ({ token_hash: sha256(token), label: 'false_positive' })));
        for (const id of [client.keyId, row.id]) expect((await keyRow(id)).revoked_at).toBeNull();
        await ctx.exchange({ orgId: client.orgId, keyId: row.id, secret: undigested }).expect(200);
      });

      it('answers a known key’s secret, revoked now or before, as an unknown one: the same members, headers and nothing about the key', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const ip = freshIp();
        const first = await report(ctx.app, [{ token: client.secret, type: 'x' }], { ip }).expect(200);
        const again = await report(ctx.app, [{ token: client.secret, type: 'x' }], { ip }).expect(200);
        const unknown = await report(ctx.app, [{ token: generateSecret(), type: 'x' }], { ip }).expect(200);
        expect(again.body).toEqual(first.body);
        const headerNames = (res: request.Response) => Object.keys(res.headers).filter((h) => h !== 'date' && h !== 'x-request-id').sort();
        expect(headerNames(again)).toEqual(headerNames(first));
        expect(headerNames(unknown)).toEqual(headerNames(first));
        expect(Object.keys(unknown.body[0]).sort()).toEqual(Object.keys(first.body[0]).sort());
        for (const id of [client.keyId, client.orgId, client.appId, 'test key', 'system']) expect(first.text).not.toContain(id);
      });

      it('runs argon2 only for a digest that matched: junk and unknown well-formed secrets cost none', async () => {
        let verifications = 0;
        const hasher: SecretHasher = {
          hash: (s) => ctx.deps.hasher.hash(s),
          verify: (h, s) => {
            verifications++;
            return ctx.deps.hasher.verify(h, s);
          },
        };
        const app = createApp({ ...ctx.deps, hasher });
        const client = await ctx.createClient(['tools:deploy']);
        const junk = [...Array.from({ length: 60 }, () => ({ token: generateSecret() })), { token: wrongChecksum(client.secret) }, { token: 'secret_short' }, { token: '' }];
        await report(app, junk, { ip: freshIp() }).expect(200);
        expect(verifications).toBe(0);
        await report(app, [{ token: client.secret }, { token: client.secret }], { ip: freshIp() }).expect(200);
        expect(verifications).toBe(1);
      });
    });

    describe('throttling', () => {
      it(`answers ${LIMIT} reports a minute from one address, then 429 with Retry-After, junk counted too; another address is not held back`, async () => {
        const ip = freshIp();
        await report(ctx.app, [{ token: generateSecret() }], { ip }).expect(200);
        await report(ctx.app, '[not json', { ip }).expect(400);
        await report(ctx.app, [{ token: generateSecret() }], { ip }).expect(200);
        const client = await ctx.createClient(['tools:deploy']);
        const refused = await report(ctx.app, [{ token: client.secret }], { ip }).expect(429);
        expect(refused.body.code).toBe('throttled');
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        expect((await keyRow(client.keyId)).revoked_at).toBeNull();
        await report(ctx.app, [{ token: client.secret }], { ip: freshIp() }).expect(200);
        ctx.clock.advance(61_000);
        await report(ctx.app, [{ token: generateSecret() }], { ip }).expect(200);
      });

      it.skipIf(dialectCase.dialect !== 'postgres')('counts one address’s reports on every instance together on PostgreSQL', async () => {
        const other = await createServices(ctx.deps.config, { db: ctx.db, kek: ctx.kek, logger: testLogger(), clock: ctx.clock });
        try {
          const apps = [ctx.app, createApp(other)];
          const ip = freshIp();
          for (let i = 0; i < LIMIT; i++) await report(apps[i % 2]!, [{ token: generateSecret() }], { ip }).expect(200);
          await report(apps[LIMIT % 2]!, [{ token: generateSecret() }], { ip }).expect(429);
          await report(apps[(LIMIT + 1) % 2]!, [{ token: generateSecret() }], { ip }).expect(429);
        } finally {
          other.keyring.stop();
          await other.refusalAudit.stop();
          await other.people.refusalAudit.stop();
          await other.lastUsed.stop();
        }
      });
    });

    describe('GitHub’s signatures', () => {
      it('takes a report GitHub signed (ECDSA P-256 over the raw body), audits it as GitHub’s, and does not throttle it', async () => {
        const ip = freshIp();
        const client = await ctx.createClient(['tools:deploy']);
        const text = JSON.stringify([{ token: client.secret, type: 'scope_auth_secret', url: 'https://github.com/a/b/blob/c/d', source: 'commit' }]);
        const res = await signedReport(ctx.app, github, text, { ip }).expect(200);
        expect(res.body).toEqual([{ token_hash: sha256(client.secret), token_type: 'scope_auth_secret', label: 'true_positive' }]);
        const [event] = await auditEvents(ctx, client.orgId, { action: 'key.revoked', target_id: client.keyId });
        expect(event!.details).toMatchObject({ reason: 'leaked', reported_via: 'github', source: 'commit' });
        for (let i = 0; i < LIMIT + 2; i++) {
          const batch = JSON.stringify([{ token: generateSecret(), type: 'scope_auth_secret' }]);
          await signedReport(ctx.app, github, batch, { ip }).expect(200);
        }
      });

      it('refuses, with one constant 401 and revoking nothing, a forged signature, an unknown key identifier, a tampered body or half a signature', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const text = JSON.stringify([{ token: client.secret }]);
        const forger = newSigner(github.identifier);
        const stranger = newSigner('unknown-key');
        const attempts = [
          signedReport(ctx.app, forger, text, { ip: freshIp() }),
          signedReport(ctx.app, stranger, text, { ip: freshIp() }),
          report(ctx.app, text, { ip: freshIp(), headers: { 'Github-Public-Key-Identifier': github.identifier, 'Github-Public-Key-Signature': github.sign(JSON.stringify([{ token: generateSecret() }])) } }),
          report(ctx.app, text.replace('}', ',"url":"x"}'), { ip: freshIp(), headers: { 'Github-Public-Key-Identifier': github.identifier, 'Github-Public-Key-Signature': github.sign(text) } }),
          report(ctx.app, text, { ip: freshIp(), headers: { 'Github-Public-Key-Identifier': github.identifier } }),
          report(ctx.app, text, { ip: freshIp(), headers: { 'Github-Public-Key-Signature': github.sign(text) } }),
          report(ctx.app, text, { ip: freshIp(), headers: { 'Github-Public-Key-Identifier': github.identifier, 'Github-Public-Key-Signature': 'not base64!' } }),
        ];
        const bodies = [];
        for (const attempt of attempts) {
          const res = await attempt;
          expect(res.status).toBe(401);
          bodies.push(res.body);
        }
        for (const body of bodies) expect(body).toEqual({ ...bodies[0], detail: INVALID_SIGNATURE });
        expect(bodies[0].code).toBe('unauthenticated');
        expect((await keyRow(client.keyId)).revoked_at).toBeNull();
      });

      it('counts refused signatures against the address', async () => {
        const ip = freshIp();
        const forger = newSigner(github.identifier);
        for (let i = 0; i < LIMIT; i++) await signedReport(ctx.app, forger, JSON.stringify([{ token: generateSecret() }]), { ip }).expect(401);
        await signedReport(ctx.app, forger, JSON.stringify([{ token: generateSecret() }]), { ip }).expect(429);
      });

      it('takes unsigned reports as before', async () => {
        const client = await ctx.createClient(['tools:deploy']);
        const res = await report(ctx.app, [{ token: client.secret }], { ip: freshIp() }).expect(200);
        expect(res.body[0].label).toBe('true_positive');
        const [event] = await auditEvents(ctx, client.orgId, { action: 'key.revoked', target_id: client.keyId });
        expect(event!.details).toMatchObject({ reported_via: 'endpoint' });
      });

      it('reads the keys file again when a cron replaced it: a new key’s signatures verify without a restart', async () => {
        const next = newSigner('rotated-key');
        dir.write('secret_scanning.json', githubKeysJson([next, github]));
        const text = JSON.stringify([{ token: generateSecret() }]);
        await signedReport(ctx.app, next, text, { ip: freshIp() }).expect(200);
        await signedReport(ctx.app, github, text, { ip: freshIp() }).expect(200);
        // A broken file later keeps the keys read before.
        dir.write('secret_scanning.json', '{ "public_keys": "gone" }');
        await signedReport(ctx.app, newSigner('never-listed'), text, { ip: freshIp() }).expect(401);
        await signedReport(ctx.app, next, text, { ip: freshIp() }).expect(200);
      });
    });

    it('revokes only the key the secret is of, in its own org’s audit log: another org’s key stays active', async () => {
      const acme = await ctx.createOrg('acme');
      const globex = await ctx.createOrg('globex');
      const a = await ctx.createClient(['tools:deploy'], { orgId: acme.org.id });
      const b = await ctx.createClient(['tools:deploy'], { orgId: globex.org.id });
      await report(ctx.app, [{ token: a.secret, url: 'https://example.com/acme' }], { ip: freshIp() }).expect(200);
      expect((await keyRow(a.keyId)).revoke_reason).toBe('leaked');
      expect((await keyRow(b.keyId)).revoked_at).toBeNull();
      expect(await auditEvents(ctx, acme.org.id, { action: 'key.revoked' })).toHaveLength(1);
      expect(await auditEvents(ctx, globex.org.id, { action: 'key.revoked' })).toEqual([]);
      await ctx.exchange(b).expect(200);
    });

    it('never logs a reported token, whatever the answer; the request line counts the reports and names the revoked keys', async () => {
      const logged = loggedApp(ctx.deps);
      const client = await ctx.createClient(['tools:deploy']);
      const stranger = generateSecret();
      const ok = await request(logged.app)
        .post('/v1/leaks')
        .set('Content-Type', 'application/json')
        .set('X-Forwarded-For', freshIp())
        .set('X-Request-Id', 'leak-1')
        .send(JSON.stringify([{ token: client.secret }, { token: stranger }]))
        .expect(200);
      const bad = [
        report(logged.app, `[{"token":"${stranger}"`, { ip: freshIp() }),
        report(logged.app, [{ token: stranger, url: 42 }], { ip: freshIp() }),
        signedReport(logged.app, newSigner(github.identifier), JSON.stringify([{ token: stranger }]), { ip: freshIp() }),
      ];
      for (const attempt of bad) expect((await attempt).status).toBeGreaterThanOrEqual(400);
      const [line] = logged.linesOf('leak-1');
      expect(line).toMatchObject({ outcome: 'reported', reported_via: 'endpoint', reports: 2, true_positives: 1, revoked_key_ids: [client.keyId], req: { method: 'POST', path: '/v1/leaks' } });
      expect(ok.body).toHaveLength(2);
      for (const secret of [client.secret, stranger]) expect(logged.text()).not.toContain(secret);
    });
  });
});
