#!/usr/bin/env node
// The image's HEALTHCHECK (and a liveness probe for anything without curl): GET /healthz on
// the address the server listens on, read from the configuration the server reads (so
// SCOPE_AUTH_PORT and SCOPE_AUTH_HOST mean the same here); exit 0 on a 200 within 3 s, else
// exit 1 with the reason on stderr, which `docker inspect` shows. Run from an installed tree
// (deploy/install.sh): node deploy/healthcheck.mjs. test/deploy/proxy.test.ts runs it.
import { loadConfig } from '../dist/src/config.js';

const TIMEOUT_MS = 3000;

function unhealthy(reason) {
  process.stderr.write(`unhealthy: ${reason}\n`);
  process.exit(1);
}

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  unhealthy(error.message);
}
if (config.port === 0) unhealthy('SCOPE_AUTH_PORT=0 lets the system pick the port, which a health check cannot know');
// A wildcard address is reached on the loopback address of its family.
const host = { '0.0.0.0': '127.0.0.1', '::': '::1' }[config.host] ?? config.host;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.port}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (res.status !== 200) unhealthy(`${url} answered ${res.status}`);
  process.stdout.write(`healthy: ${url} answered 200\n`);
} catch (error) {
  unhealthy(`${url}: ${error.cause?.code ?? error.message}`);
}
