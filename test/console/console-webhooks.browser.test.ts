// Webhooks in a real browser: an owner opens Webhooks from the navigation, adds a webhook to
// a receiver on 127.0.0.1 (SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP), copies its signing secret from
// the copy-once dialog, finds it in the list, opens it, rotates its secret and deletes it
// through the confirmation dialogs. axe-core checks each page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, NO_CHROMIUM, seriousViolations, type Browser } from '../helpers/browser.js';
import { PASSWORD } from '../helpers/people.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { LOOPBACK_ENV, startReceiver, type Receiver } from '../helpers/webhooks.js';

describe.skipIf(NO_CHROMIUM !== null)(NO_CHROMIUM ?? 'webhooks in the console, in Chromium', () => {
  let server: TestServer;
  let receiver: Receiver;
  let browser: Browser;
  let page: Page;
  let secret = '';

  async function accessible(name: string) {
    expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
  }
  const clipboard = () => page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText());

  beforeAll(async () => {
    receiver = await startReceiver('/hook');
    server = await startTestServer({ env: LOOPBACK_ENV });
    browser = await launchBrowser({ origin: server.url });
    page = await browser.newPage();
    await page.goto(server.server.bootstrap!.ownerInvitationUrl);
    await page.getByLabel('Email').fill('hedy@example.com');
    await page.getByLabel('Name').fill('Hedy Lamarr');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByRole('heading', { name: 'Apps' }).waitFor();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await receiver?.close();
  });

  it('opens Webhooks from the navigation and adds a webhook, its signing secret shown once and copied', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await expect(page.getByText('No webhooks yet.').isVisible()).resolves.toBe(true);
    await accessible('webhooks, none yet');

    await page.getByRole('link', { name: 'Add webhook' }).click();
    await page.getByRole('heading', { name: 'Add webhook' }).waitFor();
    await page.getByRole('textbox', { name: 'URL' }).fill(receiver.url);
    await page.getByLabel('Description').fill('Key alerts');
    const events = page.getByRole('group', { name: 'Events' });
    await expect(events.getByRole('checkbox').count()).resolves.toBe(7);
    await events.getByRole('checkbox', { name: 'key.created' }).check();
    await events.getByRole('checkbox', { name: 'key.revoked' }).check();
    await accessible('add webhook');
    await page.getByRole('button', { name: 'Add webhook' }).click();

    const dialog = page.getByRole('dialog', { name: 'Webhook added' });
    await dialog.waitFor();
    await expect(dialog.getByText('you will not see it again').isVisible()).resolves.toBe(true);
    secret = (await dialog.getByRole('status', { name: 'Signing secret' }).textContent())!.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await accessible('the signing secret, once');
    await dialog.getByRole('button', { name: 'Copy Signing secret' }).click();
    await expect.poll(clipboard).toBe(secret);

    // "Copy and close" replaces the page in the history: neither the list nor Back holds the secret.
    await Promise.all([page.waitForEvent('framenavigated'), dialog.getByRole('button', { name: 'Copy and close' }).click()]);
    await page.waitForLoadState('load');
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await expect(clipboard()).resolves.toBe(secret);
    expect(await page.content()).not.toContain(secret);
    await page.goBack();
    expect(await page.content()).not.toContain(secret);
    await page.goForward();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
  });

  it('lists the webhook and opens its page, with its settings', async () => {
    const row = page.getByRole('row', { name: new RegExp(receiver.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')) });
    await expect(row.getByText('Enabled', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(row.getByText('key.created', { exact: true }).isVisible()).resolves.toBe(true);
    await accessible('webhooks list');
    await row.getByRole('link', { name: receiver.url }).click();
    await page.getByRole('heading', { name: receiver.url, level: 1 }).waitFor();
    await expect(page.getByRole('definition').filter({ hasText: 'Key alerts' }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('heading', { name: 'Recent deliveries' }).isVisible()).resolves.toBe(true);
    await accessible('webhook page');
  });

  it('rotates the secret through its confirmation dialog, the new one shown once', async () => {
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const confirm = page.getByRole('dialog', { name: `Rotate the signing secret of “${receiver.url}”?` });
    await confirm.waitFor();
    await accessible('rotate dialog');
    await confirm.getByRole('button', { name: 'Rotate secret' }).click();
    const dialog = page.getByRole('dialog', { name: 'Signing secret rotated' });
    await dialog.waitFor();
    const rotated = (await dialog.getByRole('status', { name: 'Signing secret' }).textContent())!.trim();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await Promise.all([page.waitForEvent('framenavigated'), dialog.getByRole('button', { name: 'Copy and close' }).click()]);
    await page.waitForLoadState('load');
    await page.getByRole('heading', { name: receiver.url, level: 1 }).waitFor();
    await expect(clipboard()).resolves.toBe(rotated);
    expect(await page.content()).not.toContain(rotated);
  });

  it('deletes the webhook through its confirmation dialog, back to the list', async () => {
    await page.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('dialog', { name: `Delete webhook “${receiver.url}”?` });
    await confirm.waitFor();
    await accessible('delete dialog');
    await confirm.getByRole('button', { name: 'Delete webhook' }).click();
    await page.getByRole('status').filter({ hasText: 'The webhook was deleted' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/webhooks');
    await expect(page.getByText('No webhooks yet.').isVisible()).resolves.toBe(true);
    await accessible('webhooks after the delete');
  });
});
