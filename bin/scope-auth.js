#!/usr/bin/env node
// The `scope-auth` command (package.json "bin"): the compiled CLI. Everything else lives in
// src/cli/index.ts. In a clone (src/ beside bin/) dist/ is built first when a source is
// newer than it (scripts/build.mjs); an installed package has no src/ and runs its dist/.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../src', import.meta.url))) {
  const { build } = await import('../scripts/build.mjs');
  if (!build(['server'], { ifStale: true })) process.exit(1);
}
const { main } = await import('../dist/src/cli/index.js');

await main(process);
