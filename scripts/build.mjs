#!/usr/bin/env node
// Builds dist/ with tsc, and decides in plain Node, without any dev dependency, whether it
// has to. In a clone the bins (bin/serve.cjs, which `npm start` runs, and bin/scope-auth.js)
// and `npm test` build only when a source is newer than what it compiles to, so a restart
// costs no compilation; a production install (`npm ci --omit=dev`, no TypeScript) starts
// from the dist/ it has. A published package has no sources and never comes here.
//
//   node scripts/build.mjs [server] [sdk]             compile (the server's dist/, sdk/dist)
//   node scripts/build.mjs --if-stale [server] [sdk]  only when a .ts or .json of the sources
//                                                     is newer than its output, or has none
//   node scripts/build.mjs --clean [server] [sdk]     remove the output first (npm pack ships
//                                                     nothing stale, e.g. of a deleted source)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Each tsconfig's sources and rootDir → outDir, as the tsconfig says (checked after each build). */
const PROJECTS = {
  // The server compiles the SDK's sources too, into dist/sdk/src: its package serves
  // `scope-auth/client` and `scope-auth/verifier` from there and needs no other package.
  // The console's stylesheet and script are no TypeScript: copied as they are (a clone's
  // server reads them from src/, a package's from dist/).
  server: { dir: ROOT, tsconfig: 'tsconfig.build.json', rootDir: '.', outDir: 'dist', sources: ['src', 'db', 'sdk/src'], copy: [['src/console/assets', 'dist/src/console/assets']] },
  sdk: { dir: join(ROOT, 'sdk'), tsconfig: 'tsconfig.json', rootDir: 'src', outDir: 'dist', sources: ['src'] },
};

function* sourceFiles(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.json') || (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))) yield path;
  }
}

/** The first source without an output at least as new as itself; undefined when the build is current. */
function staleSource(project) {
  for (const source of project.sources) {
    for (const file of sourceFiles(join(project.dir, source))) {
      const output = join(project.dir, project.outDir, relative(join(project.dir, project.rootDir), file)).replace(/\.ts$/, '.js');
      if (!existsSync(output) || statSync(output).mtimeMs < statSync(file).mtimeMs) return relative(ROOT, file);
    }
  }
  return undefined;
}

function tscPath() {
  try {
    return createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    return undefined;
  }
}

/** Compiles one project; false (with the reason on stderr) when it did not. */
function compile(name, project, clean, why) {
  const tsc = tscPath();
  if (tsc === undefined) {
    console.error(`scope-auth: the ${name} needs a build${why}, and TypeScript is not installed (a production install?): run \`npm install && npm run build\` first`);
    return false;
  }
  if (why !== '') console.error(`scope-auth: building the ${name}${why}`);
  if (clean) rmSync(join(project.dir, project.outDir), { recursive: true, force: true });
  // tsc reports on stdout; stderr keeps the CLI's stdout (its --json output) clean.
  const result = spawnSync(process.execPath, [tsc, '-p', join(project.dir, project.tsconfig)], { cwd: project.dir, stdio: ['ignore', 2, 2] });
  if (result.status !== 0) return false;
  for (const [from, to] of project.copy ?? []) cpSync(join(project.dir, from), join(project.dir, to), { recursive: true });
  const unbuilt = staleSource(project);
  if (unbuilt !== undefined) {
    console.error(`build.mjs: tsc wrote no output for ${unbuilt}: PROJECTS in scripts/build.mjs disagrees with ${project.tsconfig}`);
    return false;
  }
  return true;
}

/**
 * Builds the named projects (default: the server); with `ifStale`, only those with a source
 * newer than its output. Returns false when a build failed (tsc still writes what it can).
 */
export function build(names = ['server'], { ifStale = false, clean = false } = {}) {
  for (const name of names) {
    const project = PROJECTS[name];
    if (project === undefined) throw new Error(`build.mjs: unknown project ${name} (${Object.keys(PROJECTS).join(', ')})`);
    let why = '';
    if (ifStale) {
      const stale = staleSource(project);
      if (stale === undefined) continue;
      why = ` (${stale} is newer than its build, or has none)`;
    }
    if (!compile(name, project, clean, why)) return false;
  }
  return true;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const flags = args.filter((arg) => arg.startsWith('--'));
  const unknown = flags.find((flag) => flag !== '--if-stale' && flag !== '--clean');
  if (unknown !== undefined) {
    console.error(`build.mjs: unknown option ${unknown} (--if-stale, --clean)`);
    process.exit(2);
  }
  const names = args.filter((arg) => !arg.startsWith('--'));
  const ok = build(names.length > 0 ? names : undefined, { ifStale: flags.includes('--if-stale'), clean: flags.includes('--clean') });
  process.exit(ok ? 0 : 1);
}
