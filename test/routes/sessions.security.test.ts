import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import type { SecretHasher } from '../../src/domain/hashing.js';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { COOKIE, cookieOf, createPerson, ORIGIN, PASSWORD, signIn } from '../helpers/people.js';

/** The real (cheap) hasher, counting its verifications and delaying each by `ms`, as a costly argon2 would. */
function countingHasher(real: SecretHasher, ms = 0) {
  const counted = { verifications: 0 };
  const hasher: SecretHasher = {
    hash: (secret) => real.hash(secret),
    verify: async (hash, secret) => {
      counted.verifications++;
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      return real.verify(hash, secret);
    },
  };
  return { hasher, counted };
}

describe.each(DIALECTS)('POST /v1/sessions, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let app: App;
    let counted: { verifications: number };
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_THROTTLE_KEY_FAILURES: '5', SCOPE_AUTH_THROTTLE_IP_FAILURES: '1000' } });
      const counting = countingHasher(ctx.deps.hasher);
      counted = counting.counted;
      app = createApp({ ...ctx.deps, hasher: counting.hasher });
    });
    afterAll(async () => ctx?.close());

    it('answers an unknown email, a wrong password, a disabled person, an invited one and a disabled org with one identical 401, each after exactly one argon2 verification', async () => {
      const wrong = await createPerson(ctx, { app });
      const disabled = await createPerson(ctx, { app });
      await ctx.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', disabled.userId).execute();
      const tenant = await ctx.createOrg('soon disabled');
      const inDisabledOrg = await createPerson(ctx, { app, orgId: tenant.org.id });
      await ctx.db.updateTable('orgs').set({ disabled_at: ctx.clock.now() }).where('id', '=', tenant.org.id).execute();
      const owner = await createPerson(ctx, { app });
      const invited = await request(app).post('/v1/users').set('Cookie', owner.cookie).set('X-CSRF-Token', owner.csrf).set('Origin', ORIGIN).send({ email: 'invited@example.com', role: 'viewer' }).expect(201);
      const attempts: [string, string, string, string | null][] = [
        ['nobody@example.com', PASSWORD, 'unknown_email', null],
        [wrong.email, 'not the password at all', 'wrong_password', wrong.userId],
        [disabled.email, PASSWORD, 'disabled', disabled.userId],
        ['invited@example.com', PASSWORD, 'invited', invited.body.user.id],
        [inDisabledOrg.email, PASSWORD, 'org_disabled', inDisabledOrg.userId],
      ];
      const bodies = new Set<string>();
      for (const [email, password, reason, userId] of attempts) {
        const before = counted.verifications;
        const res = await signIn(app, email, password).expect(401);
        expect(counted.verifications - before).toBe(1);
        expect(res.headers['set-cookie']).toBeUndefined();
        bodies.add(JSON.stringify(res.body));
        if (userId !== null) {
          const orgId = userId === inDisabledOrg.userId ? tenant.org.id : ctx.root.org.id;
          const [event] = await auditEvents(ctx, orgId, { action: 'session.refused', target_id: userId });
          expect(event).toMatchObject({ actor: 'anonymous', target_type: 'user', details: { reason } });
        }
      }
      expect(bodies.size).toBe(1);
      expect(JSON.parse([...bodies][0]!)).toMatchObject({ status: 401, code: 'invalid_credentials' });
      // And a right password costs one verification too.
      const before = counted.verifications;
      await signIn(app, wrong.email).expect(201);
      expect(counted.verifications - before).toBe(1);
    });

    it('counts attempts before checking them: of many sent at once for one email, at most the limit are verified', async () => {
      const ada = await createPerson(ctx, { app });
      const before = counted.verifications;
      const answers = await Promise.all(Array.from({ length: 20 }, () => signIn(app, ada.email, 'not the password at all')));
      expect(counted.verifications - before).toBeLessThanOrEqual(5);
      expect(answers.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(15);
      const throttled = await auditEvents(ctx, ada.orgId, { action: 'session.refused', target_id: ada.userId });
      // The throttled ones are aggregated, as the exchange's are: not one row each.
      expect(throttled.length).toBeLessThan(10);
      expect(throttled.some((e) => e.details['reason'] === 'throttled')).toBe(true);
    });

    it('answers an unknown email no sooner than a verification takes', async () => {
      const slow = countingHasher(ctx.deps.hasher, 100);
      const slowApp = createApp({ ...ctx.deps, hasher: slow.hasher });
      const started = performance.now();
      await signIn(slowApp, 'nobody-at-all@example.com').expect(401);
      expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    });

    it('refuses a sign-in a browser sends from another site (login CSRF)', async () => {
      const ada = await createPerson(ctx, { app });
      expect((await signIn(app, ada.email).set('Sec-Fetch-Site', 'cross-site')).status).toBe(403);
      expect((await signIn(app, ada.email).set('Origin', 'https://evil.example')).body.code).toBe('csrf_failed');
      await signIn(app, ada.email).set('Sec-Fetch-Site', 'same-origin').expect(201);
      await signIn(app, ada.email).set('Origin', ORIGIN).expect(201);
    });

    it('gives every sign-in a new session, never shows its secret again, and keeps it out of the audit log', async () => {
      const ada = await createPerson(ctx, { app });
      const first = cookieOf(await signIn(app, ada.email).expect(201));
      const second = cookieOf(await signIn(app, ada.email).expect(201));
      expect(first).not.toBe(second);
      const secret = first.slice(COOKIE.length + 1);
      const stored = await ctx.db.selectFrom('sessions').selectAll().where('user_id', '=', ada.userId).execute();
      expect(JSON.stringify(stored)).not.toContain(secret);
      const events = JSON.stringify(await auditEvents(ctx, ada.orgId));
      expect(events).not.toContain(secret);
      expect(events).not.toContain(ada.csrf);
      expect(events).not.toContain(ada.email);
      const me = await request(app).get('/v1/me').set('Cookie', first).expect(200);
      expect(JSON.stringify(me.body)).not.toContain(secret);
    });

    it('sets a __Host- cookie, Secure, when the issuer is https', async () => {
      const https = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_ISSUER: 'https://auth.example.com' } });
      try {
        const ada = await createPerson(https);
        const res = await signIn(https.app, ada.email).expect(201);
        const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0]!;
        expect(cookie).toMatch(/^__Host-scope-auth-session=[A-Za-z0-9_-]{43}; Max-Age=43200; Path=\/; Expires=.*; HttpOnly; Secure; SameSite=Strict$/);
      } finally {
        await https.close();
      }
    });
  });
});
