// The console in a real browser, as a new admin goes through it: the first start's owner
// link, an app with a component level and a runtime permission, a key copied once and used
// with the SDK, its last use, its revocation, the audit log, a viewer who cannot create,
// forged posts refused, sign out. axe-core checks every page on the way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ScopeAuthClient, ScopeAuthError } from '../../sdk/src/client.js';
import { launchBrowser, NO_CHROMIUM, seriousViolations, type Browser } from '../helpers/browser.js';
import { PASSWORD } from '../helpers/people.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.skipIf(NO_CHROMIUM !== null)(NO_CHROMIUM ?? 'the console in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const checked: string[] = [];
  let credentials: { orgId: string; keyId: string; secret: string } | null = null;

  /** axe on the page as it is now: no serious or critical violation. */
  async function accessible(name: string) {
    expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
    checked.push(name);
  }

  function client(c: { orgId: string; keyId: string; secret: string }) {
    return new ScopeAuthClient({ orgId: c.orgId, apiKey: c.keyId, apiSecret: c.secret, authUrl: server.url, retry: { maxAttempts: 1 } });
  }

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser({ origin: server.url });
    page = await browser.newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('takes the first start’s owner link to a signed-in owner on the apps page', async () => {
    await page.goto(server.server.bootstrap!.ownerInvitationUrl);
    await expect(page.getByRole('heading', { name: 'Accept invitation' }).isVisible()).resolves.toBe(true);
    await accessible('accept invitation');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Name').fill('Ada Lovelace');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByRole('heading', { name: 'Apps' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/apps');
    await expect(page.getByText('Ada Lovelace').first().isVisible()).resolves.toBe(true);
    await accessible('apps');
  });

  it('creates an app with a component level and a runtime permission, the implied one ticked and listed', async () => {
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.getByRole('heading', { name: 'Create app' }).waitFor();
    await page.getByLabel('Name').fill('billing-service');
    await page.getByLabel('Description').fill('Charges customers');
    await page.getByRole('radiogroup', { name: 'agents' }).getByRole('radio', { name: 'Edit' }).check();
    await page.getByRole('checkbox', { name: 'runtime:run', exact: true }).check();
    const implied = page.getByRole('checkbox', { name: 'sessions:create', exact: true });
    await expect(implied.isChecked()).resolves.toBe(true);
    await expect(implied.isDisabled()).resolves.toBe(true);
    await expect(page.getByText('Included by runtime:run').isVisible()).resolves.toBe(true);
    const can = page.getByRole('region', { name: 'What this app can do' }).getByRole('listitem');
    expect((await can.allTextContents()).map((t) => t.split(' — ')[0])).toEqual(['agents:edit', 'agents:view', 'runtime:run', 'sessions:create']);
    await accessible('create app');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'billing-service' }).waitFor();
    await expect(page.getByRole('status').filter({ hasText: 'The app was created.' }).isVisible()).resolves.toBe(true);
    await accessible('app keys tab');
    await page.getByRole('link', { name: 'Settings' }).click();
    await expect(page.getByRole('radiogroup', { name: 'agents' }).getByRole('radio', { name: 'Edit' }).isChecked()).resolves.toBe(true);
    await expect(page.getByText('Changing the scopes applies to every key of this app').isVisible()).resolves.toBe(true);
    await accessible('app settings tab');
  });

  it('creates a key and shows its secret once, copied with "Copy and close", then gone from the page and its history', async () => {
    await page.getByRole('navigation', { name: 'App' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('button', { name: 'Create API key' }).click();
    const form = page.getByRole('dialog');
    await form.getByLabel('Name').fill('billing worker');
    await form.getByRole('button', { name: 'Create' }).click();
    const dialog = page.getByRole('dialog', { name: 'API key “billing worker” created' });
    await dialog.waitFor();
    await expect(dialog.getByText('it will not be shown again').isVisible()).resolves.toBe(true);
    await accessible('copy-once dialog');
    const secret = (await dialog.getByRole('status', { name: 'Secret' }).textContent())!.trim();
    const keyId = (await dialog.getByRole('status', { name: 'Key ID' }).textContent())!.trim();
    const orgId = (await dialog.getByRole('status', { name: 'Organization ID' }).textContent())!.trim();
    expect(secret).toMatch(/^secret_/);
    for (const name of ['Copy Organization ID', 'Copy Key ID', 'Copy Secret', 'Copy Environment']) await expect(dialog.getByRole('button', { name }).isVisible()).resolves.toBe(true);
    await dialog.getByRole('button', { name: 'Copy and close' }).click();
    await page.waitForURL((url) => url.pathname.endsWith('/keys') && url.search === '');
    const clipboard = await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText());
    expect(clipboard).toBe(`SCOPE_ORG_ID=${orgId}\nSCOPE_API_KEY=${keyId}\nSCOPE_API_SECRET=${secret}\nSCOPE_AUTH_API_URL=${server.url}`);
    expect(await page.content()).not.toContain(secret);
    await page.goBack();
    expect(await page.content()).not.toContain(secret);
    await page.goForward();
    expect(await page.content()).not.toContain(secret);
    credentials = { orgId, keyId, secret };
  });

  it('exchanges the key with the SDK, and shows "Last used" change', async () => {
    const row = () => page.getByRole('row', { name: /billing worker/ });
    await page.reload();
    await expect(row().getByRole('cell').nth(6).textContent()).resolves.toBe('Never');
    const token = await client(credentials!).getToken();
    expect(token.split('.')).toHaveLength(3);
    // The last-used figures are written once a second.
    for (let i = 0; i < 20 && (await row().getByRole('cell').nth(6).textContent()) === 'Never'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await page.reload();
    }
    const lastUsed = row().getByRole('cell').nth(6).locator('time');
    await expect(lastUsed.textContent()).resolves.toMatch(/now|second|minute/);
    await expect(lastUsed.getAttribute('title')).resolves.toContain('127.0.0.1');
    await expect(row().getByRole('cell').nth(7).textContent()).resolves.toBe('1');
  });

  it('revokes the key with a reason, and the next exchange is refused', async () => {
    const row = page.getByRole('row', { name: /billing worker/ });
    await row.getByRole('button', { name: 'Revoke' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke key “billing worker”?' });
    await dialog.getByLabel('Reason').fill('leaked in a log');
    await accessible('revoke dialog');
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await page.getByRole('status').filter({ hasText: 'The key was revoked' }).waitFor();
    await expect(page.getByRole('row', { name: /billing worker/ }).getByText('Revoked', { exact: true }).isVisible()).resolves.toBe(true);
    const refused = await client(credentials!).getToken().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ScopeAuthError);
    expect((refused as ScopeAuthError).code).toBe('invalid_client');
  });

  it('lists the organization’s keys by status, and the audit log names who did what', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Status').selectOption('revoked');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=revoked/);
    await expect(page.getByRole('row', { name: /billing worker/ }).isVisible()).resolves.toBe(true);
    await accessible('API keys');
    await page.getByRole('link', { name: 'Audit log' }).click();
    const revoked = page.getByRole('row', { name: /key\.revoked/ });
    await expect(revoked.getByText('Ada Lovelace').isVisible()).resolves.toBe(true);
    await expect(revoked.getByText('leaked in a log').isVisible()).resolves.toBe(true);
    await accessible('audit log');
  });

  it('shows a viewer no "Create app", and refuses their forged posts', async () => {
    const { access_token } = await (await fetch(`${server.url}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ org_id: server.orgId, key_id: server.keyId, secret: server.secret }),
    })).json() as { access_token: string };
    const invited = await (await fetch(`${server.url}/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
      body: JSON.stringify({ email: 'vic@example.com', role: 'viewer' }),
    })).json() as { invitation_url: string };
    const viewer = await launchBrowser();
    try {
      const tab = await viewer.newPage();
      await tab.goto(invited.invitation_url);
      await tab.getByLabel('Name').fill('Vic Viewer');
      await tab.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await tab.getByLabel('Repeat password').fill(PASSWORD);
      await tab.getByRole('button', { name: 'Join' }).click();
      await tab.getByRole('heading', { name: 'Apps' }).waitFor();
      await expect(tab.getByRole('row', { name: /billing-service/ }).isVisible()).resolves.toBe(true);
      expect(await tab.getByRole('button', { name: 'Create app' }).count()).toBe(0);
      expect(await tab.getByRole('button', { name: 'Delete' }).count()).toBe(0);
      const csrf = await tab.locator('input[name=csrf_token]').first().inputValue();
      const post = (body: string, headers: Record<string, string> = {}) =>
        tab.request.post(`${server.url}/console/apps`, { headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, data: body, maxRedirects: 0 });
      // The role: refused by the use case itself, even with a valid token.
      const byRole = await post(`csrf_token=${encodeURIComponent(csrf)}&name=forged`, { origin: server.url });
      expect(byRole.status()).toBe(403);
      expect(await byRole.text()).toContain('Your role cannot do this');
      // Without the token, or from another site: the CSRF check.
      expect((await post('name=forged', { origin: server.url })).status()).toBe(403);
      expect((await post(`csrf_token=${encodeURIComponent(csrf)}&name=forged`, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).status()).toBe(403);
    } finally {
      await viewer.close();
    }
    await page.goto(`${server.url}/console/apps`);
    expect(await page.getByRole('row', { name: /forged/ }).count()).toBe(0);
  });

  it('signs out, and the pages ask to sign in again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await accessible('sign in');
    await page.goto(`${server.url}/console/keys?status=active`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/console/keys?status=active');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    expect(new URL(page.url()).search).toBe('?status=active');
    expect(checked).toHaveLength(10);
  });
});
