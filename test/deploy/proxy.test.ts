// docs/deployment.md, run: deploy/install.sh builds a production tree, the guide's own shell
// blocks make the secrets and the root organization, two real servers start from that tree
// on a fresh PostgreSQL schema — one as deploy/scope-auth@.service starts it (its command,
// environment file, Environment= and credentials), one as deploy/Dockerfile's CMD runs it
// with deploy/compose.yaml's environment — and HTTPS requests go through nginx and Caddy
// run from deploy/nginx and deploy/caddy. Every process it starts is stopped by its pid.
// Skipped without PostgreSQL; each proxy skipped when it is not installed (.ci/run installs
// both).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, databaseUrlFor } from '../helpers/cli.js';
import { PG_URL } from '../helpers/db.js';
import { composeEnvironment, readDockerfile, readUnit, unitProcess } from '../helpers/deploy-files.js';
import { described, guideBlocks, runCommand, runGuideBlock, type BlockRun } from '../helpers/guide.js';
import { installed, selfSignedCertificate, type Certificate, type ProxyProcess } from '../helpers/proxies.js';
import { freePort } from '../helpers/server.js';
import { captureServerOutput } from '../helpers/test-logger.js';
import { proxyChecks, type Deployment, type Instance } from '../helpers/proxy-checks.js';

const GUIDE = guideBlocks(join(ROOT, 'docs/deployment.md'));
const READY_TIMEOUT_MS = 30_000;

function spawnInstance(name: string, argv: readonly string[], env: Record<string, string>, cwd: string): Instance {
  const child = spawn(argv[0]!, argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  captureServerOutput(child.stdout!, `deploy-${name}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, port: Number(env.SCOPE_AUTH_PORT), env, child, output: () => output, exited };
}

async function waitReady(instance: Instance): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (instance.child.exitCode !== null) throw new Error(`${instance.name} exited before it was ready:\n${instance.output()}`);
    const ready = await fetch(`http://127.0.0.1:${instance.port}/readyz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${instance.name} was not ready within ${READY_TIMEOUT_MS} ms:\n${instance.output()}`);
}

describe.skipIf(!PG_URL)(`the deployment guide on one host${PG_URL ? '' : ' (skipped: set SCOPE_AUTH_TEST_DATABASE_URL to run on PostgreSQL)'}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'scope-auth-deploy-'));
  const etc = join(dir, 'etc/scope-auth');
  const app = join(dir, 'opt/scope-auth');
  const schema = `d_${randomBytes(6).toString('hex')}`;
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir };
  const instances: Instance[] = [];
  const proxies: ProxyProcess[] = [];
  let admin: pg.Client;
  let certificate: Certificate;
  let issuer: string;
  let install: BlockRun;
  let init: BlockRun;
  let imageInstance: Instance;
  let metricsPort: number;
  let nginxPort: number;

  beforeAll(async () => {
    install = await runGuideBlock(GUIDE, 'install', { swaps: [['/opt/', `${dir}/opt/`]], cwd: ROOT, env, timeoutMs: 480_000 });
    if (install.code !== 0) throw new Error(described('install', install));

    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    const databaseUrl = new URL(databaseUrlFor({ url: PG_URL!, schema }));
    databaseUrl.searchParams.set('application_name', `scope_auth_${schema}`);
    const [unitPort, imagePort] = await Promise.all([freePort(), freePort()]);
    [nginxPort, metricsPort] = await Promise.all([freePort(), freePort()]);
    issuer = `https://127.0.0.1:${nginxPort}`;
    certificate = selfSignedCertificate(dir);
    const etcSwap = ['/etc/scope-auth', etc] as const;

    const secrets = await runGuideBlock(GUIDE, 'secrets', {
      swaps: [etcSwap, ['postgres://scope_auth:PASSWORD@127.0.0.1:5432/scope_auth', databaseUrl.toString()], ['https://auth.example.com', issuer]],
      cwd: dir,
      env,
      timeoutMs: 15_000,
    });
    if (secrets.code !== 0) throw new Error(described('secrets', secrets));
    init = await runGuideBlock(GUIDE, 'init', { swaps: [etcSwap, ['/opt/', `${dir}/opt/`]], cwd: dir, env, timeoutMs: 60_000 });
    if (init.code !== 0) throw new Error(described('init', init));

    // As systemd starts scope-auth@<port>.
    const unit = unitProcess(readUnit(), {
      instance: String(unitPort),
      paths: [['/opt/scope-auth', app], etcSwap, ['/usr/bin/node', process.execPath]],
      stateRoot: join(dir, 'var/lib'),
      credentialsRoot: join(dir, 'credentials'),
    });
    // As the image runs with compose.yaml's environment; the secrets mounted where the
    // guide made them, and loopback in place of the container's 0.0.0.0.
    const dockerfile = readDockerfile();
    const imageEnv = {
      ...env,
      ...dockerfile.env,
      ...composeEnvironment(),
      SCOPE_AUTH_HOST: '127.0.0.1',
      SCOPE_AUTH_PORT: String(imagePort),
      SCOPE_AUTH_ISSUER: issuer,
      SCOPE_AUTH_KEK_FILE: join(etc, 'kek'),
      SCOPE_AUTH_DATABASE_URL_FILE: join(etc, 'database-url'),
      SCOPE_AUTH_METRICS_HOST: '127.0.0.1',
      SCOPE_AUTH_METRICS_PORT: String(metricsPort),
    };
    const workdir = join(dir, 'image', dockerfile.workdir);
    mkdirSync(join(workdir, 'keys'), { recursive: true, mode: 0o700 });
    mkdirSync(join(workdir, 'db'), { recursive: true });
    const imageCmd = dockerfile.cmd.map((arg) => (arg === 'node' ? process.execPath : arg.replace(/^\/app\//, `${app}/`)));
    instances.push(spawnInstance('unit', unit.argv, { ...env, ...unit.env }, unit.cwd));
    imageInstance = spawnInstance('image', imageCmd, imageEnv, workdir);
    instances.push(imageInstance);
    await Promise.all(instances.map(waitReady));
  }, 600_000);

  afterAll(async () => {
    for (const proxy of proxies) await proxy.stop();
    for (const instance of instances) {
      if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGKILL');
      await instance.exited;
    }
    await admin?.query(`drop schema if exists ${schema} cascade`);
    await admin?.end();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('installs a production tree: compiled, production dependencies only, nothing of the checkout it should not carry', () => {
    expect(install.stdout).toMatch(/installed scope-auth \d+\.\d+\.\d+ in /);
    expect(existsSync(join(app, 'dist/src/main.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/argon2'))).toBe(true);
    for (const absent of ['node_modules/vitest', 'node_modules/typescript', 'node_modules/.cache', '.git', 'keys/kek', 'deploy/secrets']) {
      expect(existsSync(join(app, absent)), absent).toBe(false);
    }
  });

  it("creates the root organization with the guide's init, from files holding the KEK and the database URL", () => {
    const created = JSON.parse(init.stdout) as { org: { id: string }; key: { id: string }; secret: string };
    expect(created.org.id).toMatch(/^org_/);
    expect(created.key.id).toMatch(/^key_/);
    expect(created.secret).toMatch(/^secret_/);
  });

  it("answers the guide's readiness checks on both instances", async () => {
    const [unit, image] = instances;
    const checks = await runGuideBlock(GUIDE, 'check-instances', {
      swaps: [
        ['127.0.0.1:8081', `127.0.0.1:${unit!.port}`],
        ['127.0.0.1:8082', `127.0.0.1:${image!.port}`],
      ],
      cwd: dir,
      env,
      timeoutMs: 15_000,
    });
    expect(checks.code, described('check-instances', checks)).toBe(0);
    expect(checks.stdout.match(/"status":"ready"/g)).toHaveLength(2);
  });

  it("passes the image's HEALTHCHECK while the server runs, and fails it when nothing listens", async () => {
    const command = readDockerfile().healthcheck.map((arg) => (arg === 'node' ? process.execPath : arg.replace(/^\/app\//, `${app}/`)));
    const healthy = await runCommand(command, { env: imageInstance.env, timeoutMs: 15_000 });
    expect(healthy.code, healthy.stderr).toBe(0);
    expect(healthy.stdout).toBe(`healthy: http://127.0.0.1:${imageInstance.port}/healthz answered 200\n`);
    const unused = await freePort();
    const unhealthy = await runCommand(command, { env: { ...imageInstance.env, SCOPE_AUTH_PORT: String(unused) }, timeoutMs: 15_000 });
    expect(unhealthy.code).toBe(1);
    expect(unhealthy.stderr).toBe(`unhealthy: http://127.0.0.1:${unused}/healthz: ECONNREFUSED\n`);
  });

  it("serves /metrics on compose.yaml's metrics port and not on the API port", async () => {
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('scope_auth_build_info{');
    expect((await fetch(`http://127.0.0.1:${imageInstance.port}/metrics`)).status).toBe(404);
  });

  const deployment: Deployment = {
    guide: GUIDE,
    dir,
    get nginxPort() {
      return nginxPort;
    },
    instances: () => instances,
    certificate: () => certificate,
    root: () => {
      const created = JSON.parse(init.stdout) as { org: { id: string }; key: { id: string }; secret: string };
      return { orgId: created.org.id, keyId: created.key.id, secret: created.secret };
    },
    started: (proxy) => proxies.push(proxy),
  };
  describe.skipIf(!installed('nginx'))(`through nginx${installed('nginx') ? '' : ' (skipped: nginx is not installed; apt-get install nginx)'}`, () => {
    proxyChecks(deployment, 'nginx', { firstAddress: 21 });
  });
  describe.skipIf(!installed('caddy'))(`through Caddy${installed('caddy') ? '' : ' (skipped: caddy is not installed; apt-get install caddy)'}`, () => {
    proxyChecks(deployment, 'caddy', { firstAddress: 31 });
  });

  it('drains and exits 0 on SIGTERM, each instance and proxy stopped by its pid', async () => {
    for (const proxy of proxies.splice(0)) await proxy.stop();
    for (const instance of instances) instance.child.kill('SIGTERM');
    expect(await Promise.all(instances.map((instance) => instance.exited))).toEqual([0, 0]);
  }, 60_000);
});
