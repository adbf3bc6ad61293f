// The real `scope-auth` bin, spawned as a user runs it. The bin (bin/scope-auth.js) imports
// dist/src/cli/index.js, which tsc builds in seconds; each test file instead compiles the
// current source with esbuild (a fraction of a second) into a private folder laid out like
// the package (bin/ next to dist/), inside node_modules so the compiled code finds its
// dependencies.
// Pure-JS dependencies are bundled in: Node 20 spends most of a short command's start-up
// resolving and reading the hundreds of files of kysely, zod and pg one by one, and the
// tests spawn the bin dozens of times.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { TEST_ENV } from './context.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliResult {
  /** The exit code (null when a signal ended it). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Cli {
  /** Path of the bin file that run() executes. */
  readonly bin: string;
  /** Runs `scope-auth …args` with only PATH, the test defaults and `env` in its environment. */
  run(args: readonly string[], env?: Record<string, string>): Promise<CliResult>;
  /** run(), then JSON.parse of stdout; throws with stderr when the exit code is not 0. */
  json<T = unknown>(args: readonly string[], env?: Record<string, string>): Promise<T>;
  remove(): void;
}

const RUN_TIMEOUT_MS = 30_000;

export async function buildCli(baseEnv: Record<string, string> = {}): Promise<Cli> {
  const dir = join(ROOT, 'node_modules/.cache/scope-auth-cli-test', randomBytes(6).toString('hex'));
  await build({
    entryPoints: [join(ROOT, 'src/cli/index.ts')],
    outdir: join(dir, 'dist/src/cli'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Native addons stay external, and so do the server's dependencies, which only `serve`
    // and `signing-keys` load (lazily).
    external: ['better-sqlite3', 'argon2', 'pg-native', 'pino', 'express', 'prom-client', 'jose'],
    // Bundled CommonJS dependencies call require(); ESM output has none of its own.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  mkdirSync(join(dir, 'bin'));
  // The console's stylesheet and script next to the bundle, as a package has them next to its module (`serve` loads them).
  cpSync(join(ROOT, 'src/console/assets'), join(dir, 'dist/src/cli/assets'), { recursive: true });
  const bin = join(dir, 'bin/scope-auth.js');
  copyFileSync(join(ROOT, 'bin/scope-auth.js'), bin);

  const cli: Cli = {
    bin,
    run(args, env = {}) {
      return new Promise((done, fail) => {
        const child = spawn(process.execPath, [bin, ...args], {
          env: { PATH: process.env.PATH ?? '', ...(TEST_ENV as Record<string, string>), ...baseEnv, ...env },
          timeout: RUN_TIMEOUT_MS,
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk) => (stdout += String(chunk)));
        child.stderr.on('data', (chunk) => (stderr += String(chunk)));
        child.once('error', fail);
        child.once('close', (code) => done({ code, stdout, stderr }));
      });
    },
    async json(args, env) {
      const result = await cli.run([...args, '--json'], env);
      if (result.code !== 0) throw new Error(`scope-auth ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
      return JSON.parse(result.stdout);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cli;
}

/** The URL a child process opens to reach a test database (PostgreSQL: its own schema). */
export function databaseUrlFor(database: { url: string; schema?: string }): string {
  if (database.schema === undefined) return database.url;
  const url = new URL(database.url);
  url.searchParams.set('options', `-c search_path=${database.schema}`);
  return url.toString();
}
