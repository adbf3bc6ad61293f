// A headless Chromium driven by playwright-core: Debian's chromium (SCOPE_AUTH_TEST_CHROMIUM,
// else /usr/bin/chromium or chromium-browser), with a fresh profile directory per launch,
// removed on close. The console's browser tests and `npm run screenshots` use it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CANDIDATES = [process.env['SCOPE_AUTH_TEST_CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);

export const CHROMIUM: string | null = CANDIDATES.find((path) => existsSync(path)) ?? null;
export const NO_CHROMIUM = CHROMIUM === null ? `skipped: no chromium found (${CANDIDATES.join(', ')}); apt-get install chromium` : null;

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  readonly context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(options: { origin?: string; viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  if (CHROMIUM === null) throw new Error(NO_CHROMIUM!);
  const dir = mkdtempSync(join(tmpdir(), 'scope-auth-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: options.viewport ?? { width: 1280, height: 900 },
  });
  if (options.origin !== undefined) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: options.origin });
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

