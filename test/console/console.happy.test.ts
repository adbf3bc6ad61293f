// The console's pages as routes: what a signed-in owner gets from each, and that each change
// lands as the API's would (the stored app, key and audit event).
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { consoleGet, consolePost, visibleText } from '../helpers/console.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, ORIGIN, PASSWORD, type SignedIn } from '../helpers/people.js';
import { getApiKey } from '../../src/store/api-keys.js';
import { getApp } from '../../src/store/apps.js';

describe.each(DIALECTS)('console pages on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      owner = await createPerson(ctx, { role: 'owner', name: 'Olive Owner', email: 'olive@example.com' });
    });
    afterAll(async () => ctx?.close());

    async function createAppByForm(name: string, fields: Record<string, string | string[]> = {}) {
      const res = await consolePost(ctx.app, owner, '/console/apps', { name, description: '', 'level.agents': 'agents:edit', scope: ['runtime:run'], audience: '', token_ttl: '', ...fields }).expect(303);
      return /\/console\/apps\/(app_[0-9A-Z]+)\/keys/.exec(res.headers.location!)![1]!;
    }

    it('redirects / to /console and /console to the apps', async () => {
      expect((await request(ctx.app).get('/').expect(303)).headers.location).toBe('/console');
      expect((await request(ctx.app).get('/console').expect(303)).headers.location).toBe('/console/apps');
    });

    it('signs in with the form, setting the session cookie and going to the page asked for', async () => {
      const res = await request(ctx.app)
        .post('/console/sign-in?next=%2Fconsole%2Faudit')
        .set('Origin', ORIGIN)
        .type('form')
        .send(`email=olive%40example.com&password=${encodeURIComponent(PASSWORD)}`)
        .expect(303);
      expect(res.headers.location).toBe('/console/audit');
      const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('scope-auth-session='))!;
      expect(cookie).toContain('HttpOnly');
      await request(ctx.app).get('/console/audit').set('Cookie', cookie.split(';')[0]!).expect(200);
    });

    it('creates an app from the form with the chosen level and permission, and lists it with its scopes, creator and key count', async () => {
      const appId = await createAppByForm('checkout-api', { description: 'Takes payments' });
      const stored = await getApp(ctx.db, owner.orgId, appId);
      expect(stored).toMatchObject({ name: 'checkout-api', description: 'Takes payments', scopes: ['agents:edit', 'runtime:run'], created_by: owner.userId });
      const list = visibleText((await consoleGet(ctx.app, owner, '/console/apps').expect(200)).text);
      expect(list).toContain('checkout-api agents:edit runtime:run sessions:create 0 Olive Owner');
    });

    it('searches apps by name, in any case, and pages through thousands', async () => {
      await createAppByForm('Ledger Sync');
      const found = visibleText((await consoleGet(ctx.app, owner, '/console/apps?q=ledger').expect(200)).text);
      expect(found).toContain('Ledger Sync');
      expect(found).not.toContain('checkout-api');
      for (let i = 0; i < 50; i++) await ctx.createApp(owner.orgId, [], { name: `bulk-${String(i).padStart(2, '0')}` });
      const first = (await consoleGet(ctx.app, owner, '/console/apps').expect(200)).text;
      const next = /<a href="([^"]+)" rel="next">Next page<\/a>/.exec(first)![1]!.replace(/&amp;/g, '&');
      const second = visibleText((await consoleGet(ctx.app, owner, next).expect(200)).text);
      expect(second).toContain('checkout-api');
      expect(second).toContain('First page');
    });

    it('edits an app on its Settings tab, and says its keys get the change from their next token', async () => {
      const appId = await createAppByForm('renamed-later');
      const res = await consolePost(ctx.app, owner, `/console/apps/${appId}/settings`, { name: 'renamed', description: 'now', 'level.agents': 'agents:view', audience: '', token_ttl: '600' }).expect(303);
      expect(res.headers.location).toBe(`/console/apps/${appId}/settings?done=app-saved`);
      expect(await getApp(ctx.db, owner.orgId, appId)).toMatchObject({ name: 'renamed', scopes: ['agents:view'], token_ttl_seconds: 600 });
      const page = visibleText((await consoleGet(ctx.app, owner, res.headers.location!).expect(200)).text);
      expect(page).toContain('Its keys get the new settings from their next token');
    });

    it('creates a key and answers with its secret once, on a page never stored, which the exchange accepts', async () => {
      const appId = await createAppByForm('worker-app');
      const res = await consolePost(ctx.app, owner, `/console/apps/${appId}/keys`, { name: 'nightly worker', expires: '' }).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const secret = /(secret_[0-9A-Za-z]+)/.exec(res.text)![1]!;
      const keyId = /SCOPE_API_KEY=(key_[0-9A-Z]+)/.exec(res.text)![1]!;
      expect(res.text).toContain(`SCOPE_ORG_ID=${owner.orgId}\nSCOPE_API_KEY=${keyId}\nSCOPE_API_SECRET=${secret}\nSCOPE_AUTH_API_URL=http://scope-auth.test`);
      expect(visibleText(res.text)).toContain('it will not be shown again');
      await ctx.exchange({ orgId: owner.orgId, keyId, secret }).expect(200);
      const tab = visibleText((await consoleGet(ctx.app, owner, `/console/apps/${appId}/keys`).expect(200)).text);
      expect(tab).toContain(`nightly worker ${keyId}`);
      expect(tab).not.toContain(secret);
    });

    it('revokes with a reason, rolls with a grace period and deletes keys, each audited as through the API', async () => {
      const appId = await createAppByForm('key-changes');
      const { key: first } = await ctx.createKey(owner.orgId, appId, { name: 'first' });
      const back = `/console/apps/${appId}/keys`;
      const confirm = visibleText((await consoleGet(ctx.app, owner, `/console/keys/${first.id}/revoke?back=${encodeURIComponent(back)}`).expect(200)).text);
      expect(confirm).toContain('Revoke key “first”?');
      const revoked = await consolePost(ctx.app, owner, `/console/keys/${first.id}/revoke`, { reason: 'no longer used', back }).expect(303);
      expect(revoked.headers.location).toBe(`${back}?done=key-revoked`);
      expect(await getApiKey(ctx.db, owner.orgId, first.id)).toMatchObject({ revoked_by: owner.userId, revoke_reason: 'no longer used' });

      const { key: second } = await ctx.createKey(owner.orgId, appId, { name: 'second' });
      const rolled = await consolePost(ctx.app, owner, `/console/keys/${second.id}/roll`, { grace: '3600', back }).expect(200);
      expect(rolled.text).toContain('API key “second” rolled');
      expect((await getApiKey(ctx.db, owner.orgId, second.id))!.expires_at).toBe(ctx.clock.now() + 3600_000);

      await consolePost(ctx.app, owner, `/console/keys/${second.id}/delete`, { back }).expect(303);
      expect(await getApiKey(ctx.db, owner.orgId, second.id)).toBeUndefined();
      const actions = (await auditEvents(ctx, owner.orgId, {})).filter((e) => e.actor === owner.userId).map((e) => e.action);
      expect(actions).toEqual(expect.arrayContaining(['key.revoked', 'key.rolled', 'key.deleted']));
    });

    it('filters the organization’s keys by status, app and idleness, and the audit log by action', async () => {
      const appId = await createAppByForm('filtered');
      const { key } = await ctx.createKey(owner.orgId, appId, { name: 'to revoke' });
      await consolePost(ctx.app, owner, `/console/keys/${key.id}/revoke`, { reason: '' }).expect(303);
      const revoked = visibleText((await consoleGet(ctx.app, owner, `/console/keys?status=revoked&app=${appId}`).expect(200)).text);
      expect(revoked).toContain('to revoke');
      expect(revoked).toContain('Revoked');
      const active = visibleText((await consoleGet(ctx.app, owner, `/console/keys?status=active&app=${appId}&unused_days=`).expect(200)).text);
      expect(active).toContain('No key matches.');
      const audit = visibleText((await consoleGet(ctx.app, owner, '/console/audit?action=key.revoked').expect(200)).text);
      expect(audit).toContain(`Olive Owner key.revoked key ${key.id}`);
      expect(audit).not.toContain('app.created');
    });

    it('deletes an app after its confirmation page, back to the list', async () => {
      const appId = await createAppByForm('short-lived');
      expect(visibleText((await consoleGet(ctx.app, owner, `/console/apps/${appId}/delete`).expect(200)).text)).toContain('Every key of this app stops working at once');
      const res = await consolePost(ctx.app, owner, `/console/apps/${appId}/delete`, { back: `/console/apps/${appId}/keys` }).expect(303);
      expect(res.headers.location).toBe('/console/apps?done=app-deleted');
      expect(await getApp(ctx.db, owner.orgId, appId)).toBeUndefined();
    });

    it('signs out with the header’s button', async () => {
      const person = await createPerson(ctx);
      expect((await consolePost(ctx.app, person, '/console/sign-out').expect(303)).headers.location).toBe('/console/sign-in');
      await request(ctx.app).get('/v1/me').set('Cookie', person.cookie).expect(401);
    });
  });
});
