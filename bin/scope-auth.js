#!/usr/bin/env node
// The `scope-auth` command (package.json "bin"): the compiled CLI, which `npm install`
// builds (the `prepare` script). Everything else lives in src/cli/index.ts.
import { main } from '../dist/src/cli/index.js';

await main(process);
