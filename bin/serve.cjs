#!/usr/bin/env node
// `npm start`: the server (dist/src/main.js, i.e. `scope-auth serve`) with libuv's threadpool
// sized for it. In a clone (src/ beside bin/) dist/ is built first when a source is newer than
// it (scripts/build.mjs), so a restart costs a few file stats rather than a compilation; an
// installed package has no src/ and runs its dist/.
//
// argon2 runs on libuv's threadpool, and each thread that has run it keeps its 19 MiB block
// (glibc keeps freed memory in the thread's own malloc arena), so libuv's default 4 threads
// hold 76 MiB on a machine that verifies 2 secrets at once. Here the pool has one thread per
// concurrent verification (SCOPE_AUTH_ARGON2_CONCURRENCY; by default one per CPU, at most 4,
// the rule of src/config.ts) plus one, so that DNS lookups, file reads and RSA signatures
// never wait behind argon2, and a concurrency above 4 is real rather than queued in libuv.
//
// CommonJS on purpose: libuv reads UV_THREADPOOL_SIZE once, when its pool starts, and Node
// starts the pool while it loads an ES module entry, before any of the module's code runs.
// This file runs first, then imports the server. A UV_THREADPOOL_SIZE the operator set wins.
'use strict';
const { existsSync } = require('node:fs');
const { availableParallelism } = require('node:os');
const { join } = require('node:path');

if (!process.env.UV_THREADPOOL_SIZE) {
  const configured = Number(process.env.SCOPE_AUTH_ARGON2_CONCURRENCY || Number.NaN);
  const valid = Number.isInteger(configured) && configured >= 1 && configured <= 1024;
  // An invalid value is left for the server's configuration to refuse, with its message.
  const concurrency = valid ? configured : Math.min(availableParallelism(), 4);
  process.env.UV_THREADPOOL_SIZE = String(Math.min(concurrency + 1, 1024));
}

(async () => {
  if (existsSync(join(__dirname, '../src'))) {
    const { build } = await import('../scripts/build.mjs');
    if (!build(['server'], { ifStale: true })) process.exit(1);
  }
  await import('../dist/src/main.js');
})();
