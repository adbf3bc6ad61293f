// `npm run screenshots`: PNGs of the console's main pages in docs/images/, on a throwaway
// server (SQLite in a temporary directory) with made-up apps and keys, and the figures the
// docs/console.md quotes: each page's weight (HTML + CSS + JS, as sent: the server does not compress)
// and its time to first render on loopback (the first-contentful-paint of the Performance
// API, the median of 7 loads with the stylesheet and script cached, as a returning admin
// has them). A secret on a screenshot is replaced by a made-up one first.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { launchBrowser, NO_CHROMIUM } from './chromium.js';
import { freePort } from './free-port.js';

const OUT = resolve(import.meta.dirname, '..', 'docs', 'images');
const PASSWORD = 'correct horse battery staple';
// Shaped like a secret for the picture, but with hyphens, which no real secret has: no secret scanner or log scan takes it for one.
const FAKE_SECRET = 'secret_EXAMPLE-only-not-a-real-secret-XXXXXXXXXXXXX';

if (NO_CHROMIUM !== null) {
  console.error(NO_CHROMIUM);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'scope-auth-screenshots-'));
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const config = loadConfig({
  SCOPE_AUTH_ISSUER: url,
  SCOPE_AUTH_PORT: String(port),
  SCOPE_AUTH_DATABASE_URL: `sqlite:${join(dir, 'scope-auth.sqlite')}`,
  SCOPE_AUTH_KEYS_DIR: join(dir, 'keys'),
  SCOPE_AUTH_ARGON2_MEMORY_KIB: '1024',
  SCOPE_AUTH_ARGON2_TIME_COST: '1',
});
const server = await startServer(config, { logger: pino({ level: 'silent' }) });
const browser = await launchBrowser();

try {
  // The owner joins through the first start's link; everything else is made through the API.
  const invitation = new URL(server.bootstrap!.ownerInvitationUrl).pathname.split('/').pop()!;
  const joined = await fetch(`${url}/v1/invitations/${invitation}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ email: 'ada@example.com', name: 'Ada Lovelace', password: PASSWORD }),
  });
  const cookie = joined.headers.get('set-cookie')!.split(';')[0]!;
  const { csrf_token: csrf } = (await joined.json()) as { csrf_token: string };
  const api = async <T>(method: string, path: string, body?: object): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', cookie, origin: url, 'x-csrf-token': csrf },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const apps: Record<string, string> = {};
  for (const [name, description, scopes] of [
    ['support-bot', 'Answers customers in the help centre', ['runtime:run', 'sessions:terminate', 'connections:view']],
    ['search-indexer', 'Indexes uploaded documents', ['agents:view', 'documents:upload']],
    ['billing-service', 'Charges customers and sends invoices', ['agents:edit', 'runtime:run']],
  ] as const) {
    apps[name] = (await api<{ id: string }>('POST', '/v1/apps', { name, description, scopes })).id;
  }
  const keys: { id: string; secret: string }[] = [];
  for (const [app, name] of [
    ['billing-service', 'invoice worker, production'],
    ['billing-service', 'invoice worker, staging'],
    ['billing-service', 'nightly reconciliation'],
    ['search-indexer', 'indexer'],
    ['support-bot', 'chat frontend'],
  ] as const) {
    const created = await api<{ key: { id: string }; secret: string }>('POST', `/v1/apps/${apps[app]}/keys`, { name });
    keys.push({ id: created.key.id, secret: created.secret });
  }
  for (const key of [keys[0]!, keys[0]!, keys[3]!, keys[4]!]) {
    await fetch(`${url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ org_id: server.bootstrap!.org.id, key_id: key.id, secret: key.secret }) });
  }
  await api('POST', `/v1/keys/${keys[1]!.id}/revoke`, { reason: 'staging retired' });
  for (const [email, role] of [['grace@example.com', 'editor'], ['linus@example.com', 'viewer']] as const) await api('POST', '/v1/users', { email, role });
  await api('POST', '/v1/orgs', { name: 'Acme Corp' });
  await new Promise((done) => setTimeout(done, 1500)); // the last-used figures are written once a second

  mkdirSync(OUT, { recursive: true });
  const page = await browser.newPage();
  const shot = (p: Page, name: string) => p.screenshot({ path: join(OUT, `console-${name}.png`), fullPage: true });

  await page.goto(`${url}/console/sign-in`);
  await shot(page, 'sign-in');
  await browser.context.addCookies([{ name: cookie.split('=')[0]!, value: cookie.split('=')[1]!, url }]);
  await page.goto(`${url}/console/apps`);
  await shot(page, 'apps');
  await page.goto(`${url}/console/apps/new`);
  await page.getByLabel('Name').fill('checkout-api');
  await page.getByLabel('Description').fill('Takes payments at the checkout');
  await page.getByRole('radiogroup', { name: 'agents' }).getByRole('radio', { name: 'View' }).check();
  await page.getByRole('checkbox', { name: 'runtime:run', exact: true }).check();
  await shot(page, 'create-app');
  await page.goto(`${url}/console/apps/${apps['billing-service']}/keys`);
  await shot(page, 'app-keys');
  await page.getByRole('button', { name: 'Create API key' }).click();
  await page.getByRole('dialog').getByLabel('Name').fill('invoice worker, eu-west');
  await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
  await page.getByRole('dialog', { name: /created/ }).waitFor();
  await page.evaluate((fake) => {
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ textContent: string | null }> } }).document;
    for (const el of doc.querySelectorAll('[data-secret]')) el.textContent = (el.textContent ?? '').replace(/secret_[0-9A-Za-z]+/, fake);
  }, FAKE_SECRET);
  await page.screenshot({ path: join(OUT, 'console-copy-once.png') });
  await page.goto(`${url}/console/keys`);
  await shot(page, 'keys');
  await page.goto(`${url}/console/audit`);
  await shot(page, 'audit');
  for (const [name, path] of [['people', '/console/people'], ['account', '/console/account'], ['orgs', '/console/orgs'], ['signing-keys', '/console/signing-keys']] as const) {
    await page.goto(`${url}${path}`);
    await shot(page, name);
  }
  // A throwaway server's secret: the set-up page as it is.
  await page.goto(`${url}/console/second-factor`);
  await page.getByRole('button', { name: 'Set up a second factor' }).click();
  await page.getByRole('img', { name: /QR code/ }).waitFor();
  await shot(page, 'second-factor');
  await page.setViewportSize({ width: 360, height: 760 });
  await page.goto(`${url}/console/apps`);
  await shot(page, 'apps-360px');
  await page.setViewportSize({ width: 1280, height: 900 });

  // The figures.
  const pages: [string, string][] = [
    ['Sign in', '/console/sign-in'],
    ['Apps', '/console/apps'],
    ['Create app', '/console/apps/new'],
    ['App: API keys', `/console/apps/${apps['billing-service']}/keys`],
    ['API keys', '/console/keys'],
    ['Audit log', '/console/audit'],
    ['People', '/console/people'],
    ['My account', '/console/account'],
    ['Second factor (set-up)', '/console/second-factor'],
    ['Organizations', '/console/orgs'],
    ['Signing keys', '/console/signing-keys'],
  ];
  const assetBytes = async (html: string) => {
    let total = 0;
    for (const [, href] of html.matchAll(/(?:href|src)="(\/console\/assets\/[^"]+)"/g)) total += (await (await fetch(`${url}${href}`)).arrayBuffer()).byteLength;
    return total;
  };
  console.log('| page | HTML | + CSS and JS | first render (median of 7) |');
  console.log('|---|---|---|---|');
  for (const [name, path] of pages) {
    const html = await (await fetch(`${url}${path}`, { headers: { cookie } })).text();
    const htmlBytes = Buffer.byteLength(html);
    const total = htmlBytes + (await assetBytes(html));
    const paints: number[] = [];
    for (let i = 0; i < 7; i++) {
      const tab = await browser.newPage();
      await tab.goto(`${url}${path}`, { waitUntil: 'load' });
      paints.push(await tab.evaluate(async () => {
        const perf = (globalThis as unknown as { performance: { getEntriesByName(n: string): { startTime: number }[] } }).performance;
        for (let tries = 0; tries < 50 && perf.getEntriesByName('first-contentful-paint').length === 0; tries++) await new Promise((r) => setTimeout(r, 20));
        return perf.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN;
      }));
      await tab.close();
    }
    paints.sort((a, b) => a - b);
    console.log(`| ${name} | ${(htmlBytes / 1024).toFixed(1)} KiB | ${(total / 1024).toFixed(1)} KiB | ${Math.round(paints[3]!)} ms |`);
  }
  console.log(`\nscreenshots in ${OUT}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
