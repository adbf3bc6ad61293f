// Processes starting at the same moment on an empty keys directory (a fleet's first start, a
// CLI command beside a starting server): every one must end up with the same KEK, and none
// may find the file half-written. Real processes, since file-system races need them.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const TRIALS = 200;
const PROCESSES = 6;
/** Each trial starts this long after the previous one, in every process at once. */
const TRIAL_MS = 15;

describe('loadKek across processes', () => {
  let dir: string;
  let script: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scope-auth-kek-race-'));
    const module = join(dir, 'kek.mjs');
    await build({ entryPoints: [join(ROOT, 'src/domain/kek.ts')], outfile: module, bundle: true, format: 'esm', platform: 'node', logLevel: 'silent' });
    script = join(dir, 'load.mjs');
    // Every process runs every trial: it spins until the trial's start time, so they really
    // do arrive together, loads the KEK of that trial's directory and prints one line.
    writeFileSync(
      script,
      `import { loadKek } from './kek.mjs';
const [base, startAt, trials, step] = process.argv.slice(2);
const lines = [];
for (let trial = 0; trial < Number(trials); trial++) {
  const at = Number(startAt) + trial * Number(step);
  while (Date.now() < at) {}
  try { lines.push(loadKek(null, base + '/keys-' + trial).kek.toString('base64')); }
  catch (error) { lines.push('ERROR ' + error.message); }
}
process.stdout.write(lines.join('\\n'));
`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(startAt: number): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [script, dir, String(startAt), String(TRIALS), String(TRIAL_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
  }

  it(`gives ${PROCESSES} processes starting together one and the same key, in each of ${TRIALS} trials`, async () => {
    const startAt = Date.now() + 1000;
    const results = await Promise.all(Array.from({ length: PROCESSES }, () => run(startAt)));
    expect(results.map((r) => r.code)).toEqual(results.map(() => 0));
    const lines = results.map((r) => r.out.split('\n'));
    const failures: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const keys = new Set(lines.map((l) => l[trial]));
      if (keys.size !== 1 || [...keys].some((k) => !k || k.startsWith('ERROR'))) failures.push(`trial ${trial}: ${[...keys].join(' | ')}`);
      // No temporary file is left behind.
      expect(readdirSync(join(dir, `keys-${trial}`))).toEqual(['kek']);
    }
    expect(failures).toEqual([]);
  });
});
