// `scope-auth keys report-leak`: the operator reports a leaked secret on the server's database,
// as POST /v1/leaks does, and is told which key it revoked. Keys the CLI creates get their
// lookup digest when it can read the server's KEK, and say so on stderr when it cannot.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../src/domain/credentials.js';
import { auditEvents } from '../helpers/admin.js';
import { buildCli, databaseUrlFor, type Cli } from '../helpers/cli.js';
import { createTestClock } from '../helpers/clock.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { report, sha256 } from '../helpers/leaks.js';

let cli: Cli;
beforeAll(async () => {
  cli = await buildCli();
});
afterAll(() => cli?.remove());

describe.each(DIALECTS)('scope-auth keys report-leak on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let env: Record<string, string>;
    beforeAll(async () => {
      // The CLI runs on the real clock.
      ctx = await createTestContext({ dialect: dialectCase.dialect, clock: createTestClock(Date.now()) });
      // The server's KEK, as an operator's shell has it.
      env = { SCOPE_AUTH_DATABASE_URL: databaseUrlFor(ctx.database), SCOPE_AUTH_KEK: ctx.kek.toString('base64') };
    });
    afterAll(async () => ctx?.close());

    const run = (args: string[], extra: Record<string, string> = {}) => cli.run(args, { ...env, ...extra });

    it('revokes the key of a leaked secret and names it; a second report says it was revoked already', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const first = await run(['keys', 'report-leak', client.secret, '--url', 'https://ci.example.com/job/42', '--source', 'ci log']);
      expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
      expect(first.stdout).toBe(`true_positive: revoked key ${client.keyId} "test key" (org ${client.orgId}, app ${client.appId}), reason leaked. Its exchanges fail from now on.\n`);
      expect(first.stdout).not.toContain(client.secret);
      const [event] = await auditEvents(ctx, client.orgId, { action: 'key.revoked', target_id: client.keyId });
      expect(event).toMatchObject({ actor: 'system', ip: null, details: { reason: 'leaked', url: 'https://ci.example.com/job/42', source: 'ci log', reported_via: 'cli' } });
      await ctx.exchange(client).expect(401);

      const again = await run(['keys', 'report-leak', client.secret, '--json']);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual({
        label: 'true_positive',
        token_hash: sha256(client.secret),
        key: { id: client.keyId, org_id: client.orgId, app_id: client.appId, name: 'test key', revoked_now: false },
      });
      expect(await auditEvents(ctx, client.orgId, { action: 'key.revoked', target_id: client.keyId })).toHaveLength(1);
    });

    it('says false_positive for a secret no key has, and for what is not a secret', async () => {
      for (const token of [generateSecret(), 'hunter2']) {
        const result = await run(['keys', 'report-leak', token]);
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(/^false_positive: no key has this secret/);
      }
    });

    it('refuses without the server’s key-encryption key, and a key the CLI creates then has no digest, which stderr says', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const noKek = { SCOPE_AUTH_KEK: '', SCOPE_AUTH_KEYS_DIR: `/nonexistent/${randomBytes(4).toString('hex')}` };
      const refused = await run(['keys', 'report-leak', client.secret], noKek);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^scope-auth: no key-encryption key: SCOPE_AUTH_KEK is not set/);

      const created = await run(['keys', 'create', '--org', client.orgId, '--app', client.appId, '--name', 'made blind', '--json'], noKek);
      expect(created.code).toBe(0);
      expect(created.stderr).toContain('the new key gets no lookup digest');
      const { secret } = JSON.parse(created.stdout) as { secret: string };
      const res = await report(ctx.app, [{ token: secret }]).expect(200);
      expect(res.body[0].label).toBe('false_positive');

      const seen = await run(['keys', 'create', '--org', client.orgId, '--app', client.appId, '--name', 'made with the kek', '--json']);
      expect({ code: seen.code, stderr: seen.stderr }).toEqual({ code: 0, stderr: '' });
      const found = await report(ctx.app, [{ token: (JSON.parse(seen.stdout) as { secret: string }).secret }]).expect(200);
      expect(found.body[0].label).toBe('true_positive');
    });
  });
});
