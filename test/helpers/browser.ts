// A headless Chromium for the console's browser tests, driven by playwright-core: Debian's
// chromium (SCOPE_AUTH_TEST_CHROMIUM, else /usr/bin/chromium or chromium-browser). Where none
// is installed the browser tests skip, naming why, as the PostgreSQL tests do; CI installs it
// (.ci/run). Each launch gets a fresh profile directory, removed on close.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
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

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: string[];
}

/** axe-core run in the page (evaluate is not subject to the page's CSP): its serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
