// Key policies in a real browser: an admin restricts an app to some addresses on its
// Settings tab (a bad entry is shown next to the field), then creates a key holding only
// some of the app's scopes, and the key's token carries just those. axe-core checks each page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, NO_CHROMIUM, seriousViolations, type Browser } from '../helpers/browser.js';
import { PASSWORD } from '../helpers/people.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.skipIf(NO_CHROMIUM !== null)(NO_CHROMIUM ?? 'key policies in the console, in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;

  async function accessible(name: string) {
    expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
  }

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser({ origin: server.url });
    page = await browser.newPage();
    await page.goto(server.server.bootstrap!.ownerInvitationUrl);
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Name').fill('Grace Hopper');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByRole('heading', { name: 'Apps' }).waitFor();
    await page.getByRole('button', { name: 'Create app' }).click();
    await page.getByLabel('Name').fill('fenced-service');
    await page.getByRole('radiogroup', { name: 'agents' }).getByRole('radio', { name: 'Edit' }).check();
    await page.getByRole('checkbox', { name: 'tools:deploy', exact: true }).check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'fenced-service' }).waitFor();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('edits the app’s allowed IPs on its Settings tab, showing a bad entry next to the field', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    const field = page.getByRole('textbox', { name: 'Allowed IP addresses' });
    await expect(field.inputValue()).resolves.toBe('');
    await field.fill('127.0.0.0/8\n10.0.0.0/33');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('"10.0.0.0/33" has a prefix length outside 0–32').waitFor();
    await expect(field.getAttribute('aria-invalid')).resolves.toBe('true');
    // What was typed is kept, to be fixed.
    await expect(field.inputValue()).resolves.toBe('127.0.0.0/8\n10.0.0.0/33');
    await accessible('settings with a refused address');

    await field.fill('127.0.0.1/8\n::1');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'The app was saved.' }).waitFor();
    // Stored normalized, and shown so.
    await expect(field.inputValue()).resolves.toBe('127.0.0.0/8\n::1');
    await expect(page.getByRole('definition').filter({ hasText: '127.0.0.0/8' }).isVisible()).resolves.toBe(true);
    await accessible('settings with allowed IPs');
  });

  it('creates a key with some of the app’s scopes, whose token carries only those', async () => {
    await page.getByRole('navigation', { name: 'App' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('button', { name: 'Create API key' }).click();
    const form = page.getByRole('dialog');
    await form.getByLabel('Name').fill('read-only agent');
    const scopes = form.getByRole('group', { name: 'Scopes' });
    expect(await scopes.getByRole('checkbox').evaluateAll((boxes) => boxes.map((b) => (b as unknown as { value: string }).value))).toEqual([
      'agents:edit',
      'agents:view',
      'tools:deploy',
    ]);
    await scopes.getByRole('checkbox', { name: 'agents:view', exact: true }).check();
    await scopes.getByRole('checkbox', { name: 'tools:deploy', exact: true }).check();
    await accessible('create key with scopes');
    await form.getByRole('button', { name: 'Create' }).click();
    const dialog = page.getByRole('dialog', { name: 'API key “read-only agent” created' });
    await dialog.waitFor();
    const secret = (await dialog.getByRole('status', { name: 'Secret' }).textContent())!.trim();
    const keyId = (await dialog.getByRole('status', { name: 'Key ID' }).textContent())!.trim();
    const orgId = (await dialog.getByRole('status', { name: 'Organization ID' }).textContent())!.trim();

    // From 127.0.0.1, within the app's list.
    const res = await fetch(`${server.url}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ org_id: orgId, key_id: keyId, secret }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { scope: string }).scope).toBe('agents:view tools:deploy');

    await Promise.all([page.waitForEvent('framenavigated'), dialog.getByRole('button', { name: 'Copy and close' }).click()]);
    await page.waitForLoadState('load');
    const row = page.getByRole('row', { name: /read-only agent/ });
    await expect(row.getByText('Scopes: agents:view tools:deploy').isVisible()).resolves.toBe(true);
    await accessible('keys tab with a scoped key');
  });
});
