// The console's people and operator pages in a real browser, by role and accessible name:
// an owner invites a person from People and the person accepts the link in a second
// browser; the owner changes their role, signs out everywhere else from My account, enrols
// a second factor by reading the secret from the page, signs out and in with a code; creates
// an organization whose first owner, in an org requiring a second factor, is led to
// enrolment first; rotates the signing keys. axe-core checks every new page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, NO_CHROMIUM, seriousViolations, type Browser } from '../helpers/browser.js';
import { codeAt, STEP_MS } from '../helpers/mfa.js';
import { PASSWORD } from '../helpers/people.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.skipIf(NO_CHROMIUM !== null)(NO_CHROMIUM ?? 'the console’s people and operator pages in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let secret = '';
  let orgOwnerLink = '';

  async function accessible(name: string, on: Page = page) {
    expect(await seriousViolations(on), `axe on ${name}`).toEqual([]);
  }

  async function api(path: string, init: { method: string; body?: unknown; headers?: Record<string, string> }) {
    return fetch(`${server.url}${path}`, {
      method: init.method,
      headers: { 'content-type': 'application/json', ...init.headers },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  }

  async function join(tab: Page, link: string, name: string, email?: string) {
    await tab.goto(link);
    if (email !== undefined) await tab.getByLabel('Email').fill(email);
    await tab.getByLabel('Name').fill(name);
    await tab.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await tab.getByLabel('Repeat password').fill(PASSWORD);
    await tab.getByRole('button', { name: 'Join' }).click();
  }

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser({ origin: server.url });
    page = await browser.newPage();
    await join(page, server.server.bootstrap!.ownerInvitationUrl, 'Ada Lovelace', 'ada@example.com');
    await page.getByRole('heading', { name: 'Apps' }).waitFor();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('invites a person from People; they accept the link in another browser and see no People', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'People' }).click();
    await page.getByRole('heading', { name: 'People' }).waitFor();
    await accessible('people');
    await page.getByRole('button', { name: 'Invite' }).click();
    const dialog = page.getByRole('dialog', { name: 'Invite a person' });
    await dialog.getByLabel('Email').fill('eve@example.com');
    await dialog.getByLabel('Role').selectOption('editor');
    await accessible('invite dialog');
    await dialog.getByRole('button', { name: 'Invite' }).click();
    await page.getByRole('heading', { name: 'eve@example.com is invited' }).waitFor();
    await accessible('invitation link');
    await expect(page.getByRole('button', { name: 'Copy Invitation link' }).isVisible()).resolves.toBe(true);
    const link = (await page.getByRole('status', { name: 'Invitation link' }).textContent())!.trim();
    const other = await launchBrowser();
    try {
      const tab = await other.newPage();
      await join(tab, link, 'Eve Editor');
      await tab.getByRole('heading', { name: 'Apps' }).waitFor();
      expect(await tab.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'People' }).count()).toBe(0);
    } finally {
      await other.close();
    }
    await page.getByRole('link', { name: 'Back to people' }).click();
    await page.getByRole('row', { name: /Eve Editor/ }).getByText('editor', { exact: true }).waitFor();
  });

  it('changes a person’s role in its dialog', async () => {
    await page.getByRole('row', { name: /Eve Editor/ }).getByRole('button', { name: 'Change role' }).click();
    const dialog = page.getByRole('dialog', { name: 'Change the role of Eve Editor' });
    await dialog.getByLabel('Role').selectOption('viewer');
    await accessible('change role dialog');
    await dialog.getByRole('button', { name: 'Change role' }).click();
    await page.getByRole('status').filter({ hasText: 'The role was changed' }).waitFor();
    await page.getByRole('row', { name: /Eve Editor/ }).getByText('viewer', { exact: true }).waitFor();
  });

  it('signs out everywhere else from My account', async () => {
    const other = await api('/v1/sessions', { method: 'POST', body: { email: 'ada@example.com', password: PASSWORD }, headers: { origin: server.url } });
    expect(other.status).toBe(201);
    const cookie = other.headers.get('set-cookie')!.split(';')[0]!;
    await page.getByRole('link', { name: 'My account' }).click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await accessible('my account');
    const rows = page.getByRole('table', { name: 'Your open sessions' }).locator('tbody tr');
    await expect(rows.count()).resolves.toBe(2);
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByRole('status').filter({ hasText: 'Every other session was signed out.' }).waitFor();
    await expect.poll(() => rows.count()).toBe(1);
    expect((await api('/v1/me', { method: 'GET', headers: { cookie } })).status).toBe(401);
  });

  it('enrols a second factor from the secret on the page, then signs out and in with a code', async () => {
    await page.getByRole('link', { name: 'Set up a second factor' }).click();
    await accessible('second factor off');
    await page.getByRole('button', { name: 'Set up a second factor' }).click();
    await expect(page.getByRole('img', { name: 'QR code of the secret for your authenticator app' }).isVisible()).resolves.toBe(true);
    await accessible('second factor set-up');
    secret = (await page.getByRole('status', { name: 'Secret' }).textContent())!.trim();
    await page.getByLabel('Code').fill(codeAt(secret, Date.now()));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    await accessible('recovery codes');
    await expect(page.getByRole('button', { name: 'Copy recovery codes' }).isVisible()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    // The next step's code: the one confirming used this step's, and no code works twice.
    await page.getByLabel('Code', { exact: true }).fill(codeAt(secret, Date.now() + STEP_MS));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Apps' }).waitFor();
  });

  it('creates an organization, showing its admin key and its owner’s link once', async () => {
    await page.getByRole('link', { name: 'Organizations' }).click();
    await page.getByRole('heading', { name: 'Organizations' }).waitFor();
    await accessible('organizations');
    await page.getByRole('button', { name: 'Create organization' }).click();
    const form = page.getByRole('dialog', { name: 'Create organization' });
    await form.getByLabel('Name').fill('Strict Co');
    await accessible('create organization dialog');
    await form.getByRole('button', { name: 'Create' }).click();
    const dialog = page.getByRole('dialog', { name: 'Organization “Strict Co” created' });
    await dialog.waitFor();
    await accessible('organization created');
    orgOwnerLink = (await dialog.getByRole('status', { name: 'First owner’s invitation link' }).textContent())!.trim();
    const block = (await dialog.locator('#env-block').textContent())!;
    expect(block).toMatch(/SCOPE_API_SECRET=secret_/);
    await dialog.getByRole('button', { name: 'Copy and close' }).click();
    await page.waitForURL((url) => url.pathname === '/console/orgs');
    await page.getByRole('row', { name: /Strict Co/ }).waitFor();
    expect(await page.content()).not.toContain(block.split('SCOPE_API_SECRET=')[1]!.split('\n')[0]!);
    const orgId = /SCOPE_ORG_ID=(\S+)/.exec(block)![1]!;
    const token = (await (await api('/v1/token', { method: 'POST', body: { org_id: server.orgId, key_id: server.keyId, secret: server.secret } })).json()) as { access_token: string };
    const set = await api(`/v1/orgs/${orgId}`, { method: 'PATCH', body: { require_mfa: true }, headers: { authorization: `Bearer ${token.access_token}` } });
    expect(set.status).toBe(200);
  });

  it('leads the first owner of an org requiring a second factor to enrolment first', async () => {
    const other = await launchBrowser();
    try {
      const tab = await other.newPage();
      await join(tab, orgOwnerLink, 'Sam Strict', 'sam@strict.example');
      await tab.getByRole('heading', { name: 'Second factor' }).waitFor();
      await tab.getByText('Strict Co requires a second factor').waitFor();
      await tab.goto(`${server.url}/console/apps`);
      await tab.getByRole('heading', { name: 'Second factor' }).waitFor();
      await tab.getByRole('button', { name: 'Set up a second factor' }).click();
      const theirs = (await tab.getByRole('status', { name: 'Secret' }).textContent())!.trim();
      await tab.getByLabel('Code').fill(codeAt(theirs, Date.now()));
      await tab.getByRole('button', { name: 'Turn on' }).click();
      await tab.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
      await tab.getByRole('link', { name: 'Done' }).click();
      await tab.getByRole('heading', { name: 'Apps' }).waitFor();
    } finally {
      await other.close();
    }
  });

  it('lists the signing keys and rotates them after a confirmation', async () => {
    await page.getByRole('link', { name: 'Signing keys' }).click();
    await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
    await accessible('signing keys');
    const retiredBefore = await page.getByRole('row').filter({ hasText: 'Retired' }).count();
    await page.getByRole('button', { name: 'Rotate' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the signing keys?' });
    await dialog.getByLabel('At once').check();
    await accessible('rotate dialog');
    await dialog.getByRole('button', { name: 'Rotate signing keys' }).click();
    await page.getByRole('status').filter({ hasText: 'The signing keys were rotated.' }).waitFor();
    await expect(page.getByRole('row').filter({ hasText: 'Retired' }).count()).resolves.toBe(retiredBefore + 1);
  });
});
