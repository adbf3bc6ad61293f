// Vitest global setup: the tests that run what a user installs — the launcher `npm start`
// runs (bin/serve.cjs → dist/), the compiled SDK of both packages — need dist/ and
// sdk/dist current, and nothing builds them on `npm install` (a production install has no
// TypeScript). They are built here when a source is newer, as `npm start` does; when they
// are current this costs a fraction of a second.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export default function setup(): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--if-stale', 'server', 'sdk'], { encoding: 'utf8' });
  // tsc still writes what it can; the typecheck (`npm test` runs it first) reports the errors.
  if (result.status !== 0) console.warn(`npm run build failed; tests of the build may fail:\n${result.stderr}`);
}
