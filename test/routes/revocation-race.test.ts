// A revocation that returned 200 is final: no exchange that starts after it succeeds, on
// this app or on a second app instance (another "process") sharing the database.
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type AppDeps } from '../../src/app.js';
import { createServices } from '../../src/services.js';
import { createDatabase, type DatabaseHandle } from '../../src/store/database.js';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { testLogger } from '../helpers/test-logger.js';

async function listen(app: ReturnType<typeof createApp>): Promise<{ server: Server; url: string }> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe.each(DIALECTS)('revocation against concurrent exchanges on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let secondDb: DatabaseHandle;
    let secondDeps: AppDeps;
    const servers: Server[] = [];
    let urls: string[];

    beforeAll(async () => {
      // Failed exchanges must be refused, not throttled, for this test to read them.
      ctx = await createTestContext({
        dialect: dialectCase.dialect,
        env: { SCOPE_AUTH_THROTTLE_KEY_FAILURES: '100000', SCOPE_AUTH_THROTTLE_IP_FAILURES: '100000' },
      });
      secondDb = await createDatabase(ctx.database.url, ctx.database.schema === undefined ? {} : { schema: ctx.database.schema });
      secondDeps = await createServices(ctx.deps.config, { db: secondDb.db, kek: ctx.kek, logger: testLogger(), clock: ctx.clock });
      const first = await listen(ctx.app);
      const second = await listen(createApp(secondDeps));
      servers.push(first.server, second.server);
      urls = [first.url, second.url];
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      secondDeps?.keyring.stop();
      await secondDeps?.lastUsed.stop();
      await secondDb?.close();
      await ctx?.close();
    });

    it('fails every exchange that starts after the revoke answered 200, on both instances', async () => {
      const client = await ctx.createClient(['tools:deploy']);
      const admin = await ctx.tokenFor(['admin.apps:edit']);
      const body = JSON.stringify({ org_id: client.orgId, key_id: client.keyId, secret: client.secret });
      // Both instances accept the key before the revocation.
      for (const url of urls) {
        const res = await fetch(`${url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        expect(res.status).toBe(200);
      }

      const results: Promise<{ startedAt: number; status: number; instance: number }>[] = [];
      const exchange = (i: number) => {
        const instance = i % 2;
        const startedAt = performance.now();
        results.push(
          fetch(`${urls[instance]}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (res) => {
            await res.arrayBuffer();
            return { startedAt, status: res.status, instance };
          }),
        );
      };

      let revokedAt = Infinity;
      for (let i = 0; i < 20; i++) exchange(i);
      const revoke = fetch(`${urls[1]}/v1/keys/${client.keyId}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
        body: JSON.stringify({ reason: 'race' }),
      }).then(async (res) => {
        revokedAt = performance.now();
        expect(res.status).toBe(200);
        return res.json();
      });
      // Keep starting exchanges while the revocation is in flight…
      for (let i = 20; i < 40; i++) {
        exchange(i);
        await tick();
      }
      const revoked = await revoke;
      expect(revoked).toMatchObject({ status: 'revoked', revoke_reason: 'race' });
      // …and after it answered.
      for (let i = 40; i < 50; i++) exchange(i);

      const outcomes = await Promise.all(results);
      expect(outcomes).toHaveLength(50);
      for (const o of outcomes) expect([200, 401]).toContain(o.status);
      const after = outcomes.filter((o) => o.startedAt > revokedAt);
      expect(after.length).toBeGreaterThanOrEqual(10);
      expect(after.filter((o) => o.status !== 401)).toEqual([]);
      // Both instances saw exchanges after the revocation.
      expect(new Set(after.map((o) => o.instance))).toEqual(new Set([0, 1]));

      // Every refusal was for the real reason, in the key's org's audit log.
      const refused = await auditEvents(ctx, client.orgId, { action: 'token.refused', target_id: client.keyId });
      expect(refused.length).toBe(outcomes.filter((o) => o.status === 401).length);
      expect(new Set(refused.map((e) => e.details['reason']))).toEqual(new Set(['revoked']));
    });
  });
});
