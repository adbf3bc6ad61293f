// The operator and the root org's last admin: the CLI applies the same rule as the API and
// says how to override it; with --force it removes the last admin anyway, and the audit log
// records that it was forced. The CLI is exempt from least privilege among admins: it acts
// on the root admin app and key without holding any token. On each dialect.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, orgSnapshot } from '../helpers/admin.js';
import { buildCli, databaseUrlFor, type Cli } from '../helpers/cli.js';
import { createTestClock } from '../helpers/clock.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';

let cli: Cli;
beforeAll(async () => {
  cli = await buildCli();
});
afterAll(() => cli?.remove());

describe.each(DIALECTS)('the CLI and the root org’s last admin on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let env: Record<string, string>;
    beforeAll(async () => {
      // The CLI runs on the real clock.
      ctx = await createTestContext({ dialect: dialectCase.dialect, clock: createTestClock(Date.now()) });
      env = { SCOPE_AUTH_DATABASE_URL: databaseUrlFor(ctx.database) };
    });
    afterAll(async () => ctx?.close());

    const run = (...args: string[]) => cli.run(args, env);
    const json = <T = Record<string, unknown>>(...args: string[]) => cli.json<T>(args, env);

    it('refuses to revoke, delete, demote or delete the last root admin without --force, naming --force, and changes nothing', async () => {
      const org = ctx.root.org.id;
      const before = await orgSnapshot(ctx, org);
      const attempts = await Promise.all([
        run('keys', 'revoke', ctx.root.key.id, '--org', org),
        run('keys', 'delete', ctx.root.key.id, '--org', org),
        run('apps', 'update', ctx.root.adminApp.id, '--org', org, '--scope', 'admin.apps:full'),
        run('apps', 'delete', ctx.root.adminApp.id, '--org', org),
      ]);
      for (const result of attempts) {
        expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
        expect(result.stderr).toMatch(/^scope-auth: [^\n]+\n$/);
        expect(result.stderr).toContain('the last active way into the root organization holding admin.orgs:full');
        expect(result.stderr).toContain('--force');
      }
      expect(await orgSnapshot(ctx, org)).toEqual(before);
      await ctx.exchange(ctx.rootCredentials).expect(200);
    });

    it('does it with --force, and the audit log says so', async () => {
      const org = ctx.root.org.id;
      const demoted = await json<{ scopes: string[] }>('apps', 'update', ctx.root.adminApp.id, '--org', org, '--scope', 'admin.apps:full', '--force');
      expect(demoted.scopes).toEqual(['admin.apps:full']);
      const [updated] = await auditEvents(ctx, org, { action: 'app.updated', target_id: ctx.root.adminApp.id });
      expect(updated).toMatchObject({ actor: 'cli', details: { forced: 'last_root_admin' } });

      // The operator gives the root org a new way in, which the rule then keeps.
      const owners = await json<{ id: string }>('apps', 'create', '--org', org, '--name', 'owners', '--scope', 'admin.orgs:full');
      const owner = await json<{ key: { id: string } }>('keys', 'create', '--org', org, '--app', owners.id, '--name', 'owner');
      const refused = await run('keys', 'revoke', owner.key.id, '--org', org);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('--force');

      expect(await json('keys', 'revoke', owner.key.id, '--org', org, '--force')).toMatchObject({ status: 'revoked', revoked_by: 'cli' });
      const [revoked] = await auditEvents(ctx, org, { action: 'key.revoked', target_id: owner.key.id });
      expect(revoked).toMatchObject({ actor: 'cli', details: { forced: 'last_root_admin' } });

      // With no way in left, there is nothing more to lose: no --force needed, and none recorded.
      expect((await run('apps', 'delete', owners.id, '--org', org)).code).toBe(0);
      const [deleted] = await auditEvents(ctx, org, { action: 'app.deleted', target_id: owners.id });
      expect(deleted!.details).not.toHaveProperty('forced');
    });
  });
});
