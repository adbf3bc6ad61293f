// The second factor, security: no code accepted twice (replay, a race, an earlier step), the
// ±1 step window and no wider, recovery codes single-use, wrong codes throttled as failed
// sign-ins, one identical refusal for an unknown email and a wrong password still, an
// enrolment-only session refused everywhere but enrolment, CSRF on the new routes, least
// privilege for resets, and no secret or code anywhere but the answer that creates it.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { runCommonAuthTests } from '../helpers/common-auth.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { codeAt, enrol, STEP_MS, wrongCodeAt } from '../helpers/mfa.js';
import { asPerson, cookieOf, createPerson, ORIGIN, PASSWORD, session, signIn } from '../helpers/people.js';

describe.each(DIALECTS)('/v1/me/mfa and signing in with a second factor, security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect, env: { SCOPE_AUTH_THROTTLE_KEY_FAILURES: '3', SCOPE_AUTH_THROTTLE_IP_FAILURES: '1000' } });
    });
    afterAll(async () => ctx?.close());
    const refusals = async (userId: string, orgId: string) =>
      (await auditEvents(ctx, orgId, { action: 'session.refused', target_id: userId })).map((e) => e.details['reason']);

    it('never accepts a code twice: not again, not the one that confirmed enrolment, not an earlier step after a later one', async () => {
      const ada = await createPerson(ctx);
      const started = (await session(ctx.app, ada).post('/v1/me/mfa').expect(201)).body.secret as string;
      const confirming = codeAt(started, ctx.clock.now());
      await session(ctx.app, ada).post('/v1/me/mfa/confirm', { code: confirming }).expect(200);
      expect((await signIn(ctx.app, ada.email, PASSWORD, { totp: confirming }).expect(401)).body.code).toBe('mfa_required');
      ctx.clock.advance(STEP_MS);
      const code = codeAt(started, ctx.clock.now());
      await signIn(ctx.app, ada.email, PASSWORD, { totp: code }).expect(201);
      expect((await signIn(ctx.app, ada.email, PASSWORD, { totp: code }).expect(401)).body.code).toBe('mfa_required');
      // The next step's code (early, within the window) is taken; then this step's is an earlier one.
      ctx.clock.advance(STEP_MS);
      await signIn(ctx.app, ada.email, PASSWORD, { totp: codeAt(started, ctx.clock.now() + STEP_MS) }).expect(201);
      await signIn(ctx.app, ada.email, PASSWORD, { totp: codeAt(started, ctx.clock.now()) }).expect(401);
      expect(await refusals(ada.userId, ada.orgId)).toEqual(['totp_replayed', 'totp_replayed', 'totp_replayed']);
      ctx.clock.advance(61_000);
    });

    it('accepts one code of many sign-ins sent with it at once', async () => {
      const bea = await createPerson(ctx);
      const { secret } = await enrol(ctx.app, ctx.clock, bea);
      const code = codeAt(secret, ctx.clock.now());
      const answers = await Promise.all(Array.from({ length: 3 }, () => signIn(ctx.app, bea.email, PASSWORD, { totp: code })));
      expect(answers.map((r) => r.status).sort()).toEqual([201, 401, 401]);
      ctx.clock.advance(61_000);
    });

    it('accepts the code of the step before and after the current one, and none further away', async () => {
      const cy = await createPerson(ctx);
      const { secret } = await enrol(ctx.app, ctx.clock, cy);
      for (const steps of [-2, 2, 3]) await signIn(ctx.app, cy.email, PASSWORD, { totp: codeAt(secret, ctx.clock.now() + steps * STEP_MS) }).expect(401);
      ctx.clock.advance(61_000);
      await signIn(ctx.app, cy.email, PASSWORD, { totp: codeAt(secret, ctx.clock.now() - STEP_MS) }).expect(201);
      ctx.clock.advance(3 * STEP_MS);
      await signIn(ctx.app, cy.email, PASSWORD, { totp: codeAt(secret, ctx.clock.now() + STEP_MS) }).expect(201);
      expect(await refusals(cy.userId, cy.orgId)).toEqual(['wrong_totp', 'wrong_totp', 'wrong_totp']);
      ctx.clock.advance(61_000);
    });

    it('takes each recovery code once, also when sent twice at once', async () => {
      const di = await createPerson(ctx);
      const { recoveryCodes } = await enrol(ctx.app, ctx.clock, di);
      await signIn(ctx.app, di.email, PASSWORD, { recovery_code: recoveryCodes[0] }).expect(201);
      expect((await signIn(ctx.app, di.email, PASSWORD, { recovery_code: recoveryCodes[0] }).expect(401)).body.code).toBe('mfa_required');
      const both = await Promise.all([1, 1].map(() => signIn(ctx.app, di.email, PASSWORD, { recovery_code: recoveryCodes[1] })));
      expect(both.map((r) => r.status).sort()).toEqual([201, 401]);
      expect((await session(ctx.app, di).get('/v1/me/mfa').expect(200)).body.recovery_codes_remaining).toBe(8);
      ctx.clock.advance(61_000);
    });

    it('counts wrong codes as failed sign-ins: after the limit even the right code is throttled; a missing code costs nothing', async () => {
      const ed = await createPerson(ctx);
      const { secret } = await enrol(ctx.app, ctx.clock, ed);
      for (let i = 0; i < 5; i++) await signIn(ctx.app, ed.email).expect(401);
      for (let i = 0; i < 3; i++) await signIn(ctx.app, ed.email, PASSWORD, { totp: wrongCodeAt(secret, ctx.clock.now()) }).expect(401);
      const throttled = await signIn(ctx.app, ed.email, PASSWORD, { totp: codeAt(secret, ctx.clock.now()) }).expect(429);
      expect(throttled.body.code).toBe('throttled');
      ctx.clock.advance(61_000);
      await signIn(ctx.app, ed.email, PASSWORD, { totp: codeAt(secret, ctx.clock.now()) }).expect(201);
      ctx.clock.advance(61_000);
    });

    it('counts wrong codes given to remove the second factor as failed sign-ins too', async () => {
      const fay = await createPerson(ctx);
      const { secret } = await enrol(ctx.app, ctx.clock, fay);
      for (let i = 0; i < 3; i++) await session(ctx.app, fay).delete('/v1/me/mfa').send({ totp: wrongCodeAt(secret, ctx.clock.now()) }).expect(400);
      expect((await session(ctx.app, fay).delete('/v1/me/mfa').send({ totp: codeAt(secret, ctx.clock.now()) }).expect(429)).body.code).toBe('throttled');
      expect((await session(ctx.app, fay).get('/v1/me/mfa').expect(200)).body.enabled).toBe(true);
      ctx.clock.advance(61_000);
    });

    it('still answers an unknown email and a wrong password of a person with a second factor with one identical 401, code or not', async () => {
      const gus = await createPerson(ctx);
      const { secret } = await enrol(ctx.app, ctx.clock, gus);
      const code = codeAt(secret, ctx.clock.now());
      const bodies = new Set<string>();
      for (const [email, password, extra] of [
        ['nobody.mfa@example.com', PASSWORD, {}],
        ['nobody.mfa@example.com', PASSWORD, { totp: code }],
        [gus.email, 'not the password at all', {}],
        [gus.email, 'not the password at all', { totp: code }],
        [gus.email, 'not the password at all', { recovery_code: 'aaaa-bbbb-cccc-dddd' }],
      ] as const) {
        bodies.add(JSON.stringify((await signIn(ctx.app, email, password, extra).expect(401)).body));
      }
      expect(bodies.size).toBe(1);
      expect(JSON.parse([...bodies][0]!)).toMatchObject({ code: 'invalid_credentials' });
      // The code was not spent by the refused attempts.
      ctx.clock.advance(61_000);
      await signIn(ctx.app, gus.email, PASSWORD, { totp: codeAt(secret, ctx.clock.now()) }).expect(201);
      ctx.clock.advance(61_000);
    });

    it('refuses an enrolment-only session everything but the person, enrolment and signing out, with 403 mfa_enrolment_required', async () => {
      const tenant = await ctx.createOrg('strict');
      await ctx.db.updateTable('orgs').set({ require_mfa: 1 }).where('id', '=', tenant.org.id).execute();
      const owner = await createPerson(ctx, { orgId: tenant.org.id });
      const other = await createPerson(ctx, { orgId: tenant.org.id, role: 'viewer' });
      const s = session(ctx.app, owner);
      const refused = [
        s.get('/v1/apps'),
        s.post('/v1/apps', { name: 'sneaky', scopes: [] }),
        s.get('/v1/audit'),
        s.get('/v1/scopes'),
        s.get('/v1/users'),
        s.post('/v1/users', { email: 'helper@example.com', role: 'owner' }),
        s.delete(`/v1/users/${other.userId}/mfa`),
        s.get(`/v1/orgs/${tenant.org.id}`),
        s.patch(`/v1/orgs/${tenant.org.id}`, { require_mfa: false }),
        s.get('/v1/me/sessions'),
        s.delete('/v1/me/sessions'),
      ];
      for (const res of await Promise.all(refused)) {
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('mfa_enrolment_required');
      }
      expect((await ctx.db.selectFrom('orgs').select('require_mfa').where('id', '=', tenant.org.id).executeTakeFirstOrThrow()).require_mfa).toBe(1);
      await s.get('/v1/me').expect(200);
      await s.patch('/v1/me', { name: 'Still Me' }).expect(200);
      await s.get('/v1/me/mfa').expect(200);
      await s.post('/v1/me/mfa').expect(201);
      await s.delete('/v1/sessions/current').expect(204);
      await session(ctx.app, owner).get('/v1/me').expect(401);
    });

    it('answers 403 csrf_failed to the new routes’ changes without the CSRF token or from another site', async () => {
      const owner = await createPerson(ctx);
      const hal = await createPerson(ctx, { role: 'viewer' });
      const { secret } = await enrol(ctx.app, ctx.clock, hal);
      const noToken = (req: request.Test, person: typeof owner) => asPerson(req, person, { csrf: false }).set('Origin', ORIGIN);
      const crossSite = (req: request.Test, person: typeof owner) => asPerson(req, person, { csrf: false }).set('X-CSRF-Token', person.csrf).set('Sec-Fetch-Site', 'cross-site');
      for (const forge of [noToken, crossSite]) {
        const attempts = [
          forge(request(ctx.app).post('/v1/me/mfa'), owner),
          forge(request(ctx.app).post('/v1/me/mfa/confirm'), hal).send({ code: codeAt(secret, ctx.clock.now()) }),
          forge(request(ctx.app).delete('/v1/me/mfa'), hal).send({ totp: codeAt(secret, ctx.clock.now()) }),
          forge(request(ctx.app).delete(`/v1/users/${hal.userId}/mfa`), owner),
        ];
        for (const res of await Promise.all(attempts)) expect(res.body.code).toBe('csrf_failed');
      }
      expect((await session(ctx.app, hal).get('/v1/me/mfa').expect(200)).body.enabled).toBe(true);
      expect((await session(ctx.app, owner).get('/v1/me/mfa').expect(200)).body.pending).toBe(false);
    });

    it('answers 401 without a session and 403 to a bearer token on /v1/me/mfa, which is a person’s own', async () => {
      const { token } = await ctx.tokenFor(['admin.users:full', 'admin.apps:full']);
      for (const [method, path] of [['get', '/v1/me/mfa'], ['post', '/v1/me/mfa'], ['post', '/v1/me/mfa/confirm'], ['delete', '/v1/me/mfa']] as const) {
        await request(ctx.app)[method](path).expect(401);
        expect((await request(ctx.app)[method](path).set('Authorization', `Bearer ${token}`).expect(403)).body.code).toBe('forbidden');
      }
    });

    it('keeps the TOTP secret sealed and bound to its person, and neither it nor a recovery code in any other answer, row or audit event', async () => {
      const ivy = await createPerson(ctx);
      const jo = await createPerson(ctx);
      const { secret, otpauthUri, recoveryCodes } = await enrol(ctx.app, ctx.clock, ivy);
      const row = await ctx.db.selectFrom('users').selectAll().where('id', '=', ivy.userId).executeTakeFirstOrThrow();
      expect(row.totp_secret_encrypted).toMatch(/^v1\./);
      const stored = JSON.stringify([row, await ctx.db.selectFrom('recovery_codes').selectAll().where('user_id', '=', ivy.userId).execute()]);
      const answers = JSON.stringify([
        (await session(ctx.app, ivy).get('/v1/me').expect(200)).body,
        (await session(ctx.app, ivy).get('/v1/me/mfa').expect(200)).body,
        (await session(ctx.app, jo).get(`/v1/users/${ivy.userId}`).expect(200)).body,
        (await session(ctx.app, jo).get('/v1/users').expect(200)).body,
        (await signIn(ctx.app, ivy.email, PASSWORD, { recovery_code: recoveryCodes[0] }).expect(201)).body,
      ]);
      const events = JSON.stringify(await auditEvents(ctx, ivy.orgId));
      for (const text of [stored, answers, events]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(otpauthUri);
        for (const code of recoveryCodes) {
          expect(text).not.toContain(code);
          expect(text).not.toContain(code.replaceAll('-', ''));
        }
      }
      // Moved to another person's row, the sealed secret opens for nobody: their sign-in fails, it does not pass.
      await enrol(ctx.app, ctx.clock, jo);
      await ctx.db.updateTable('users').set({ totp_secret_encrypted: row.totp_secret_encrypted }).where('id', '=', jo.userId).execute();
      const swapped = await signIn(ctx.app, jo.email, PASSWORD, { totp: codeAt(secret, ctx.clock.now()) });
      expect(swapped.status).toBe(500);
      expect(JSON.stringify(swapped.body)).not.toContain(secret);
    });

    it('refuses a key holding admin.users:full but not the apps’ full power resetting an owner’s second factor', async () => {
      const owner = await createPerson(ctx);
      await enrol(ctx.app, ctx.clock, owner);
      const caller = await ctx.tokenFor(['admin.users:full', 'admin.apps:view', 'admin.audit:view']);
      const res = await request(ctx.app).delete(`/v1/users/${owner.userId}/mfa`).set('Authorization', `Bearer ${caller.token}`).expect(403);
      expect(res.body.code).toBe('exceeds_caller_scope');
      expect((await session(ctx.app, owner).get('/v1/me/mfa').expect(200)).body.enabled).toBe(true);
    });

    it('lets a session from before a second factor was enabled go on, and a signed-out one not come back with a code', async () => {
      const kai = await createPerson(ctx);
      const earlier = cookieOf(await signIn(ctx.app, kai.email).expect(201));
      const { secret } = await enrol(ctx.app, ctx.clock, kai);
      await request(ctx.app).get('/v1/me').set('Cookie', earlier).expect(200);
      await session(ctx.app, kai).delete('/v1/sessions/current').expect(204);
      await session(ctx.app, kai).get('/v1/me').expect(401);
      await signIn(ctx.app, kai.email, PASSWORD, { totp: codeAt(secret, ctx.clock.now()) }).expect(201);
      ctx.clock.advance(STEP_MS);
    });

    describe('DELETE /v1/users/{id}/mfa', () =>
      runCommonAuthTests(() => ctx, {
        method: 'delete',
        path: async (c, orgId) => `/v1/users/${(await createPerson(c, { orgId, role: 'viewer' })).userId}/mfa`,
        scope: 'admin.users:full',
        otherOrg: 404,
      }));
  });
});
