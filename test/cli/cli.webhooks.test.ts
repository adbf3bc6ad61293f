// `scope-auth webhooks …`, spawned as the real bin against a test database: create prints the
// signing secret once (sealed under the server's KEK, so the server signs with it), every
// --json output is what the HTTP API answers, and the operator's changes are audited as `cli`.
// On SQLite (cli.database.test.ts covers the dialects; these call the same domain functions).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { createTestClock } from '../helpers/clock.js';
import { buildCli, databaseUrlFor, type Cli } from '../helpers/cli.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { startReceiver, testDeliverer, verifyAt } from '../helpers/webhooks.js';

interface Webhook {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
}

describe('scope-auth webhooks', () => {
  let cli: Cli;
  let ctx: TestContext;
  let env: Record<string, string>;
  let orgId: string;
  let token: string;
  beforeAll(async () => {
    cli = await buildCli();
    ctx = await createTestContext({ dialect: 'sqlite', clock: createTestClock(Date.now()), env: { SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP: 'true' } });
    env = { SCOPE_AUTH_DATABASE_URL: databaseUrlFor(ctx.database), SCOPE_AUTH_KEK: ctx.kek.toString('base64'), SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP: 'true' };
    orgId = (await ctx.createOrg('Acme')).org.id;
    token = (await ctx.tokenFor(['admin.webhooks:view'], { orgId })).token;
  });
  afterAll(async () => {
    cli?.remove();
    await ctx?.close();
  });
  const run = (...args: string[]) => cli.run(args, env);
  const json = <T = Record<string, unknown>>(...args: string[]) => cli.json<T>(args, env);
  const api = (path: string) => request(ctx.app).get(path).set('Authorization', `Bearer ${token}`).expect(200);

  it('creates a webhook, printing its signing secret once; the server signs its deliveries with it', async () => {
    const receiver = await startReceiver();
    try {
      const human = await run('webhooks', 'create', '--org', orgId, '--url', receiver.url, '--event', 'key.revoked', '--event', 'key.created,key.rolled', '--description', 'alerts');
      expect(human.code).toBe(0);
      expect(human.stderr).toBe('');
      expect(human.stdout).toMatch(/^Created webhook whk_[0-9A-Z]{26} in org_\S+\.\n/);
      expect(human.stdout).toContain('key.created key.revoked key.rolled');
      const secret = /(whsec_\S+)/.exec(human.stdout)![1]!;
      expect(human.stdout).toContain('shown only this once');
      const id = /(whk_[0-9A-Z]{26})/.exec(human.stdout)![1]!;
      const [event] = await auditEvents(ctx, orgId, { target_id: id });
      expect(event).toMatchObject({ action: 'webhook.created', actor: 'cli' });
      // A key created for the org is delivered, signed with the printed secret.
      const app = await ctx.createApp(orgId, []);
      await json('keys', 'create', '--org', orgId, '--app', app.id, '--name', 'makes an event');
      // The CLI's clock is the system's: the delivery is due from then.
      ctx.clock.set(Date.now());
      await testDeliverer(ctx).deliverDue();
      expect(receiver.received).toHaveLength(1);
      expect(verifyAt(Number(receiver.received[0]!.headers['webhook-timestamp']) * 1000, secret, receiver.received[0]!)).toMatchObject({ type: 'key.created' });
    } finally {
      await receiver.close();
    }
  });

  it('prints with --json what the API answers: list, show, update and deliveries', async () => {
    const created = await json<{ webhook: Webhook; secret: string }>('webhooks', 'create', '--org', orgId, '--url', 'https://hooks.example.com/in', '--event', 'org.updated', '--json');
    expect(Object.keys(created).sort()).toEqual(['secret', 'webhook']);
    expect(created.secret).toMatch(/^whsec_/);
    const id = created.webhook.id;
    expect(await json('webhooks', 'show', id, '--org', orgId, '--json')).toEqual((await api(`/v1/webhooks/${id}`)).body);
    expect(await json('webhooks', 'list', '--org', orgId, '--json')).toEqual((await api('/v1/webhooks')).body);
    const updated = await json<Webhook>('webhooks', 'update', id, '--org', orgId, '--disable', '--event', 'app.updated', '--json');
    expect(updated).toMatchObject({ enabled: false, events: ['app.updated'] });
    expect(updated).toEqual((await api(`/v1/webhooks/${id}`)).body);
    expect(await json('webhooks', 'deliveries', id, '--org', orgId, '--json')).toEqual((await api(`/v1/webhooks/${id}/deliveries`)).body);
    const table = await run('webhooks', 'list', '--org', orgId);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+URL\s+EVENTS\s+ENABLED\s+CREATED$/);
    expect(table.stdout).not.toContain('whsec_');
    const shown = await run('webhooks', 'show', id, '--org', orgId);
    expect(shown.stdout).not.toContain('whsec_');
  });

  it('rotates the secret, printing the new one once, and deletes', async () => {
    const { webhook } = await json<{ webhook: Webhook }>('webhooks', 'create', '--org', orgId, '--url', 'https://hooks.example.com/r', '--event', 'key.revoked', '--json');
    const rotated = await run('webhooks', 'rotate-secret', webhook.id, '--org', orgId);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/whsec_[A-Za-z0-9+/]{43}=/);
    const deleted = await run('webhooks', 'delete', webhook.id, '--org', orgId);
    expect(deleted).toMatchObject({ code: 0, stdout: `Deleted webhook ${webhook.id}.\n` });
    await request(ctx.app).get(`/v1/webhooks/${webhook.id}`).set('Authorization', `Bearer ${token}`).expect(404);
  });

  it('gives an older org’s admin app the webhook scopes as the docs say, after which its key registers webhooks', async () => {
    const older = await ctx.createOrg('Older');
    const stripped = older.adminApp.scopes.filter((s) => !s.startsWith('admin.webhooks:'));
    await ctx.db.updateTable('apps').set({ scopes: JSON.stringify(stripped) }).where('id', '=', older.adminApp.id).execute();
    const adminToken = await ctx.tokenOf({ orgId: older.org.id, keyId: older.key.id, secret: older.secret });
    const body = { url: 'https://hooks.example.com/older', events: ['key.revoked'] };
    await request(ctx.app).post('/v1/webhooks').set('Authorization', `Bearer ${adminToken}`).send(body).expect(403);
    const updated = await run('apps', 'update', older.adminApp.id, '--org', older.org.id, '--scope', 'admin.apps:full admin.audit:view admin.users:full admin.webhooks:full tokens:introspect');
    expect(updated.code, updated.stderr).toBe(0);
    // A token keeps what it was minted with at most: the key's next one holds the new scope.
    const fresh = await ctx.tokenOf({ orgId: older.org.id, keyId: older.key.id, secret: older.secret });
    await request(ctx.app).post('/v1/webhooks').set('Authorization', `Bearer ${fresh}`).send(body).expect(201);
  });

  it('says what is wrong with a command line, naming the flag, and exits 2', async () => {
    const cases: [string[], RegExp][] = [
      [['webhooks', 'create', '--org', orgId, '--url', 'http://10.0.0.1/', '--event', 'key.revoked'], /^scope-auth: --url: 10\.0\.0\.1 is a private address/],
      [['webhooks', 'create', '--org', orgId, '--url', 'https://u:p@hooks.example.com/', '--event', 'key.revoked'], /^scope-auth: --url: must not hold a user name or password/],
      [['webhooks', 'create', '--org', orgId, '--url', 'https://hooks.example.com/', '--event', 'key.stolen'], /unknown event type key\.stolen/],
      [['webhooks', 'update', 'whk_01JD0000000000000000000000', '--org', orgId], /^scope-auth: nothing to change/],
      [['webhooks', 'show', 'key_01JD0000000000000000000000', '--org', orgId], /expected a webhook id \(whk_…\)/],
    ];
    for (const [args, message] of cases) {
      const res = await run(...args);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toMatch(message);
    }
    const missing = await run('webhooks', 'show', 'whk_01JD0000000000000000000000', '--org', orgId);
    expect(missing).toMatchObject({ code: 1, stderr: 'scope-auth: no webhook whk_01JD0000000000000000000000 in this organization\n' });
  });

  it('needs the server’s key-encryption key to create one, and says where it looked', async () => {
    const keys = mkdtempSync(join(tmpdir(), 'scope-auth-no-kek-'));
    try {
      const res = await cli.run(['webhooks', 'create', '--org', orgId, '--url', 'https://hooks.example.com/', '--event', 'key.revoked'], { SCOPE_AUTH_DATABASE_URL: env.SCOPE_AUTH_DATABASE_URL!, SCOPE_AUTH_KEYS_DIR: keys });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`no key-encryption key: SCOPE_AUTH_KEK is not set and ${keys}/kek does not exist`);
      // Reading needs none.
      expect((await cli.run(['webhooks', 'list', '--org', orgId], { SCOPE_AUTH_DATABASE_URL: env.SCOPE_AUTH_DATABASE_URL!, SCOPE_AUTH_KEYS_DIR: keys })).code).toBe(0);
    } finally {
      rmSync(keys, { recursive: true, force: true });
    }
  });
});
