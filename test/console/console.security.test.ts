// The console's security: signed-out visitors are sent to sign in (and only back into the
// console), every response carries the console's CSP and headers, no page holds an inline
// script or style, values are escaped, a viewer's and a forged post are refused by the same
// checks as the API's, and SCOPE_AUTH_CONSOLE=false leaves no console at all.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP } from '../../src/console/headers.js';
import { listApiKeys } from '../../src/store/api-keys.js';
import { listApps } from '../../src/store/apps.js';
import { consoleGet, consolePost, expectNoInlineCode } from '../helpers/console.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, ORIGIN, PASSWORD, type SignedIn } from '../helpers/people.js';

describe.each(DIALECTS)('console security on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    let viewer: SignedIn;
    let appId: string;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      owner = await createPerson(ctx, { role: 'owner' });
      viewer = await createPerson(ctx, { role: 'viewer', name: 'Vic' });
      appId = (await ctx.createApp(owner.orgId, ['runtime:run'], { name: '<img src=x onerror=alert(1)>' })).id;
    });
    afterAll(async () => ctx?.close());

    const appNames = async () => (await listApps(ctx.db, owner.orgId, { limit: 200, before: null })).map((a) => a.name);

    it('sends a signed-out visitor, or one with a bearer token only, to sign in, and back only into the console', async () => {
      const res = await request(ctx.app).get('/console/keys?status=active').expect(303);
      expect(res.headers.location).toBe('/console/sign-in?next=%2Fconsole%2Fkeys%3Fstatus%3Dactive');
      const token = await ctx.tokenOf(ctx.rootCredentials);
      expect((await request(ctx.app).get('/console/apps').set('Authorization', `Bearer ${token}`).expect(303)).headers.location).toMatch(/^\/console\/sign-in/);
      expect((await request(ctx.app).get('/console/apps').set('Cookie', 'scope-auth-session=ended-or-forged').expect(303)).headers.location).toMatch(/^\/console\/sign-in/);
      for (const next of ['//evil.example/x', 'https://evil.example/', '/v1/apps', '/console/../v1/me', '/console\\@evil.example']) {
        const page = await request(ctx.app).get(`/console/sign-in?next=${encodeURIComponent(next)}`).expect(200);
        const action = /action="([^"]+)"/.exec(page.text)![1]!.replace(/&amp;/g, '&');
        const target = decodeURIComponent(new URL(action, ORIGIN).searchParams.get('next')!);
        expect(target.startsWith('/console/') && !target.startsWith('//')).toBe(true);
      }
      const signedIn = await request(ctx.app)
        .post(`/console/sign-in?next=${encodeURIComponent('https://evil.example/')}`)
        .set('Origin', ORIGIN)
        .type('form')
        .send(`email=${encodeURIComponent(owner.email)}&password=${encodeURIComponent(PASSWORD)}`)
        .expect(303);
      expect(signedIn.headers.location).toBe('/console/apps');
    });

    it('answers every console response with the console’s CSP, no referrer, nosniff, and pages with no-store', async () => {
      const pages = ['/', '/console/sign-in', '/console/apps', '/console/apps/new', `/console/apps/${appId}/keys`, `/console/apps/${appId}/settings`, '/console/keys', '/console/audit', '/console/nope'];
      for (const path of pages) {
        const res = await consoleGet(ctx.app, owner, path);
        expect(res.headers['content-security-policy'], path).toBe(CONSOLE_CSP);
        expect(res.headers['referrer-policy'], path).toBe('no-referrer');
        expect(res.headers['x-content-type-options'], path).toBe('nosniff');
        expect(res.headers['cache-control'], path).toBe('no-store');
      }
      expect(CONSOLE_CSP).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
      const page = (await consoleGet(ctx.app, owner, '/console/apps').expect(200)).text;
      const css = /href="(\/console\/assets\/console\.css\?v=[^"]+)"/.exec(page)![1]!;
      const asset = await request(ctx.app).get(css).expect(200);
      expect(asset.headers['content-type']).toBe('text/css; charset=utf-8');
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(asset.headers['content-security-policy']).toBe(CONSOLE_CSP);
      await request(ctx.app).get('/console/assets/console.js').set('If-None-Match', asset.headers.etag!).expect(200);
      await request(ctx.app).get('/console/assets/../app.ts').expect(404);
    });

    it('holds no inline script and no style attribute on any page, and escapes what people typed', async () => {
      const { key } = await ctx.createKey(owner.orgId, appId, { name: '"><script>alert(1)</script>' });
      const pages = ['/console/sign-in', '/console/apps', '/console/apps/new', `/console/apps/${appId}/keys`, `/console/apps/${appId}/settings`, `/console/apps/${appId}/keys/new`, `/console/apps/${appId}/delete`, '/console/keys', `/console/keys/${key.id}/revoke`, `/console/keys/${key.id}/roll`, `/console/keys/${key.id}/delete`, '/console/audit'];
      for (const path of pages) {
        const html = (await consoleGet(ctx.app, owner, path).expect(200)).text;
        expectNoInlineCode(html, path);
        expect(html, path).not.toContain('<img src=x');
      }
      expect((await consoleGet(ctx.app, owner, '/console/apps').expect(200)).text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    });

    it('hides what a viewer cannot do, and the use case refuses their post anyway', async () => {
      const list = (await consoleGet(ctx.app, viewer, '/console/apps').expect(200)).text;
      expect(list).not.toContain('Create app');
      expect(list).not.toContain('>Delete<');
      expect(list).not.toContain('>Edit<');
      const res = await consolePost(ctx.app, viewer, '/console/apps', { name: 'viewer app', audience: '', token_ttl: '' }).expect(403);
      expect(res.text).toContain('Your role cannot do this');
      expect(res.text).toContain('admin.apps:full');
      await consolePost(ctx.app, viewer, `/console/apps/${appId}/delete`).expect(403);
      const { key } = await ctx.createKey(owner.orgId, appId);
      await consolePost(ctx.app, viewer, `/console/keys/${key.id}/revoke`, { reason: 'viewer' }).expect(403);
      expect(await appNames()).not.toContain('viewer app');
      expect((await listApiKeys(ctx.db, owner.orgId, { now: ctx.clock.now(), limit: 100, before: null })).find((k) => k.id === key.id)!.revoked_at).toBeNull();
    });

    it('refuses a post without the session’s CSRF token, with another one, or from another site', async () => {
      const fields = { name: 'forged app', audience: '', token_ttl: '' };
      const missing = await consolePost(ctx.app, owner, '/console/apps', fields, { csrf: false }).expect(403);
      expect(missing.text).toContain('This form cannot be accepted');
      await consolePost(ctx.app, { cookie: owner.cookie, csrf: viewer.csrf }, '/console/apps', fields).expect(403);
      await consolePost(ctx.app, owner, '/console/apps', fields, { origin: 'https://evil.example' }).expect(403);
      await consolePost(ctx.app, owner, '/console/apps', fields).set('Sec-Fetch-Site', 'cross-site').expect(403);
      await consolePost(ctx.app, owner, '/console/sign-out', {}, { csrf: false }).expect(403);
      expect(await appNames()).not.toContain('forged app');
      // Signing in from another site's page (login CSRF) is refused too.
      await request(ctx.app).post('/console/sign-in').set('Sec-Fetch-Site', 'cross-site').type('form').send(`email=${encodeURIComponent(owner.email)}&password=${encodeURIComponent(PASSWORD)}`).expect(403);
    });

    it('never shows a key’s secret again after the page that created it', async () => {
      const res = await consolePost(ctx.app, owner, `/console/apps/${appId}/keys`, { name: 'once', expires: '' }).expect(200);
      const secret = /(secret_[0-9A-Za-z]+)/.exec(res.text)![1]!;
      for (const path of [`/console/apps/${appId}/keys`, '/console/keys', '/console/audit']) {
        expect((await consoleGet(ctx.app, owner, path).expect(200)).text).not.toContain(secret);
      }
    });
  });
});

describe('SCOPE_AUTH_CONSOLE=false', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite', env: { SCOPE_AUTH_CONSOLE: 'false' } });
  });
  afterAll(async () => ctx?.close());

  it('answers /console, its pages, its assets and / with the API’s 404', async () => {
    for (const path of ['/console', '/console/sign-in', '/console/apps', '/console/assets/console.js', '/']) {
      const res = await request(ctx.app).get(path).expect(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    }
    await request(ctx.app).post('/console/sign-in').type('form').send('email=a&password=b').expect(404);
  });
});
