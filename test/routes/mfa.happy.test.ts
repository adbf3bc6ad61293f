// The second factor, happy paths: enrolling (start, confirm), signing in with a code or a
// recovery code, removing it, an owner's reset, an org's require_mfa leading to enrolment
// first, and a password reset of a person who has one.
import request from 'supertest';
import { Secret, TOTP, URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/domain/actor.js';
import { issuePasswordReset } from '../../src/domain/people.js';
import { auditEvents } from '../helpers/admin.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { codeAt, enrol, STEP_MS } from '../helpers/mfa.js';
import { cookieOf, createPerson, PASSWORD, session, signIn, tokenOf } from '../helpers/people.js';

describe.each(DIALECTS)('/v1/me/mfa and signing in with a second factor, happy paths on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
    });
    afterAll(async () => ctx?.close());
    const iso = (ms: number) => new Date(ms).toISOString();

    it('enrols: an otpauth URI an authenticator app reads (SHA-1, 6 digits, 30 s), then a code of it enables the second factor and answers ten recovery codes once', async () => {
      const ada = await createPerson(ctx, { email: 'ada.enrols@example.com' });
      expect((await session(ctx.app, ada).get('/v1/me/mfa').expect(200)).body).toEqual({ enabled: false, enabled_at: null, pending: false, recovery_codes_remaining: 0 });
      const started = await session(ctx.app, ada).post('/v1/me/mfa').expect(201);
      expect(started.headers['cache-control']).toBe('no-store');
      expect(Object.keys(started.body).sort()).toEqual(['otpauth_uri', 'secret']);
      const parsed = URI.parse(started.body.otpauth_uri) as TOTP;
      expect(parsed).toBeInstanceOf(TOTP);
      expect(parsed).toMatchObject({ issuer: 'scope-auth.test', label: 'ada.enrols@example.com', algorithm: 'SHA1', digits: 6, period: 30 });
      expect(parsed.secret.base32).toBe(started.body.secret);
      expect(Secret.fromBase32(started.body.secret).bytes).toHaveLength(20);
      expect((await session(ctx.app, ada).get('/v1/me/mfa').expect(200)).body.pending).toBe(true);

      const confirmed = await session(ctx.app, ada).post('/v1/me/mfa/confirm', { code: codeAt(started.body.secret, ctx.clock.now()) }).expect(200);
      expect(confirmed.body.user).toMatchObject({ id: ada.userId, mfa_enabled: true });
      const codes = confirmed.body.recovery_codes as string[];
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
      expect((await session(ctx.app, ada).get('/v1/me/mfa').expect(200)).body).toEqual({ enabled: true, enabled_at: iso(ctx.clock.now()), pending: false, recovery_codes_remaining: 10 });
      expect((await session(ctx.app, ada).get('/v1/me').expect(200)).body.user.mfa_enabled).toBe(true);
      const [event] = await auditEvents(ctx, ada.orgId, { action: 'user.mfa_enabled', target_id: ada.userId });
      expect(event).toMatchObject({ actor: ada.userId, details: { recovery_codes: 10 } });
    });

    it('signs in with the email, the password and the current code; the session created says so', async () => {
      const bea = await createPerson(ctx);
      const { secret } = await enrol(ctx.app, ctx.clock, bea);
      const res = await signIn(ctx.app, bea.email, PASSWORD, { totp: codeAt(secret, ctx.clock.now()) }).expect(201);
      expect(res.body).toMatchObject({ user: { id: bea.userId, mfa_enabled: true }, restricted_to: null });
      await session(ctx.app, { cookie: cookieOf(res), csrf: res.body.csrf_token }).get('/v1/apps').expect(200);
      const [created] = await auditEvents(ctx, bea.orgId, { action: 'session.created', target_id: bea.userId });
      expect(created!.details).toMatchObject({ second_factor: 'totp' });
    });

    it('signs in with a recovery code instead, in any case and without hyphens, audited with how many are left', async () => {
      const cy = await createPerson(ctx);
      const { recoveryCodes } = await enrol(ctx.app, ctx.clock, cy);
      await signIn(ctx.app, cy.email, PASSWORD, { recovery_code: recoveryCodes[0] }).expect(201);
      await signIn(ctx.app, cy.email, PASSWORD, { recovery_code: recoveryCodes[1]!.replaceAll('-', '').toUpperCase() }).expect(201);
      const used = await auditEvents(ctx, cy.orgId, { action: 'user.mfa_recovery_code_used', target_id: cy.userId });
      expect(used.map((e) => e.details)).toEqual([{ remaining: 8 }, { remaining: 9 }]);
      expect(used[0]).toMatchObject({ actor: cy.userId, target_type: 'user' });
      expect((await session(ctx.app, cy).get('/v1/me/mfa').expect(200)).body.recovery_codes_remaining).toBe(8);
      const [created] = await auditEvents(ctx, cy.orgId, { action: 'session.created', target_id: cy.userId });
      expect(created!.details).toMatchObject({ second_factor: 'recovery_code' });
    });

    it('removes the second factor with a current code (or a recovery code): signing in takes the password alone again', async () => {
      for (const by of ['totp', 'recovery_code'] as const) {
        const di = await createPerson(ctx);
        const { secret, recoveryCodes } = await enrol(ctx.app, ctx.clock, di);
        const body = by === 'totp' ? { totp: codeAt(secret, ctx.clock.now()) } : { recovery_code: recoveryCodes[3] };
        await session(ctx.app, di).delete('/v1/me/mfa').send(body).expect(204);
        expect((await session(ctx.app, di).get('/v1/me/mfa').expect(200)).body).toEqual({ enabled: false, enabled_at: null, pending: false, recovery_codes_remaining: 0 });
        await signIn(ctx.app, di.email).expect(201);
        expect(await ctx.db.selectFrom('recovery_codes').selectAll().where('user_id', '=', di.userId).execute()).toEqual([]);
        const [removed] = await auditEvents(ctx, di.orgId, { action: 'user.mfa_disabled', target_id: di.userId });
        expect(removed).toMatchObject({ actor: di.userId, details: {} });
      }
    });

    it('starts enrolment again with a new secret, and cancels a pending one without a code', async () => {
      const ed = await createPerson(ctx);
      const first = (await session(ctx.app, ed).post('/v1/me/mfa').expect(201)).body.secret as string;
      const second = (await session(ctx.app, ed).post('/v1/me/mfa').expect(201)).body.secret as string;
      expect(second).not.toBe(first);
      // Only the latest secret confirms.
      await session(ctx.app, ed).post('/v1/me/mfa/confirm', { code: codeAt(first, ctx.clock.now()) }).expect(400);
      await session(ctx.app, ed).delete('/v1/me/mfa').expect(204);
      expect((await session(ctx.app, ed).get('/v1/me/mfa').expect(200)).body.pending).toBe(false);
      await signIn(ctx.app, ed.email).expect(201);
    });

    it('lets an owner reset the second factor of a person who lost their phone and codes, audited', async () => {
      const owner = await createPerson(ctx, { name: 'Olive Owner' });
      const fay = await createPerson(ctx, { role: 'editor' });
      await enrol(ctx.app, ctx.clock, fay);
      await signIn(ctx.app, fay.email).expect(401);
      const res = await session(ctx.app, owner).delete(`/v1/users/${fay.userId}/mfa`).expect(200);
      expect(res.body).toMatchObject({ id: fay.userId, mfa_enabled: false });
      await signIn(ctx.app, fay.email).expect(201);
      // Their sessions stay.
      await session(ctx.app, fay).get('/v1/me').expect(200);
      const [reset] = await auditEvents(ctx, fay.orgId, { action: 'user.mfa_reset', target_id: fay.userId });
      expect(reset).toMatchObject({ actor: owner.userId, actor_name: 'Olive Owner', details: { was_enabled: true } });
    });

    it('lets a key holding admin.users:full reset one too, and the operator’s CLI use case', async () => {
      const gus = await createPerson(ctx, { role: 'viewer' });
      await enrol(ctx.app, ctx.clock, gus);
      const { token } = await ctx.tokenFor(['admin.users:full', 'admin.apps:full', 'admin.audit:view', 'admin.webhooks:view']);
      await request(ctx.app).delete(`/v1/users/${gus.userId}/mfa`).set('Authorization', `Bearer ${token}`).expect(200);
      await signIn(ctx.app, gus.email).expect(201);
    });

    it('sends a person of an org requiring a second factor to enrolment first: a restricted session until they confirm one', async () => {
      const tenant = await ctx.createOrg('requires mfa');
      const owner = await createPerson(ctx, { orgId: tenant.org.id });
      const hal = await createPerson(ctx, { orgId: tenant.org.id, role: 'editor' });
      const changed = await session(ctx.app, owner).patch(`/v1/orgs/${tenant.org.id}`, { require_mfa: true }).expect(200);
      expect(changed.body.require_mfa).toBe(true);
      const [updated] = await auditEvents(ctx, tenant.org.id, { action: 'org.updated', target_id: tenant.org.id });
      expect(updated).toMatchObject({ actor: owner.userId, details: { changes: { require_mfa: { from: false, to: true } } } });

      const res = await signIn(ctx.app, hal.email).expect(201);
      expect(res.body.restricted_to).toBe('mfa_enrolment');
      const restricted = { cookie: cookieOf(res), csrf: res.body.csrf_token as string };
      const me = await session(ctx.app, restricted).get('/v1/me').expect(200);
      expect(me.body).toMatchObject({ org: { require_mfa: true }, scopes: [], session: { restricted_to: 'mfa_enrolment' } });
      expect((await session(ctx.app, restricted).get('/v1/apps').expect(403)).body.code).toBe('mfa_enrolment_required');

      const { secret } = await enrol(ctx.app, ctx.clock, restricted);
      // The same session acts in full from the moment the second factor is confirmed.
      expect((await session(ctx.app, restricted).get('/v1/me').expect(200)).body.session.restricted_to).toBeNull();
      await session(ctx.app, restricted).get('/v1/apps').expect(200);
      const full = await signIn(ctx.app, hal.email, PASSWORD, { totp: codeAt(secret, ctx.clock.now()) }).expect(201);
      expect(full.body.restricted_to).toBeNull();
    });

    it('restricts at once the open sessions of people without a second factor when the org starts requiring one, and lifts it when it stops', async () => {
      const tenant = await ctx.createOrg('turns it on');
      const ivy = await createPerson(ctx, { orgId: tenant.org.id, role: 'editor' });
      await session(ctx.app, ivy).get('/v1/apps').expect(200);
      const { token } = await ctx.tokenFor(['admin.orgs:full']);
      await request(ctx.app).patch(`/v1/orgs/${tenant.org.id}`).set('Authorization', `Bearer ${token}`).send({ require_mfa: true }).expect(200);
      expect((await session(ctx.app, ivy).get('/v1/apps').expect(403)).body.code).toBe('mfa_enrolment_required');
      await request(ctx.app).patch(`/v1/orgs/${tenant.org.id}`).set('Authorization', `Bearer ${token}`).send({ require_mfa: false }).expect(200);
      await session(ctx.app, ivy).get('/v1/apps').expect(200);
    });

    it('signs a person invited into an org requiring a second factor in to enrolment', async () => {
      const tenant = await ctx.createOrg('invites');
      await ctx.db.updateTable('orgs').set({ require_mfa: 1 }).where('id', '=', tenant.org.id).execute();
      const jo = await createPerson(ctx, { orgId: tenant.org.id });
      expect((await session(ctx.app, jo).get('/v1/me').expect(200)).body.session.restricted_to).toBe('mfa_enrolment');
      expect((await session(ctx.app, jo).get('/v1/users').expect(403)).body.code).toBe('mfa_enrolment_required');
    });

    it('does not sign in on a password-reset link a person with a second factor: they sign in with the new password and a code', async () => {
      const kai = await createPerson(ctx);
      const { secret } = await enrol(ctx.app, ctx.clock, kai);
      const { resetUrl } = await issuePasswordReset(ctx.deps, cliActor(kai.orgId), { userId: kai.userId });
      const res = await request(ctx.app).post(`/v1/invitations/${tokenOf(resetUrl)}`).send({ password: 'a brand new passphrase' }).expect(200);
      expect(res.body).toMatchObject({ user: { id: kai.userId, mfa_enabled: true }, mfa_required: true });
      expect(res.headers['set-cookie']).toBeUndefined();
      expect((await signIn(ctx.app, kai.email, 'a brand new passphrase').expect(401)).body.code).toBe('mfa_required');
      await signIn(ctx.app, kai.email, 'a brand new passphrase', { totp: codeAt(secret, ctx.clock.now()) }).expect(201);
      ctx.clock.advance(STEP_MS);
    });
  });
});
