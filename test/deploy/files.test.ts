// The files of deploy/ and docs/deployment.md agree with the server and with each other:
// every variable they set is one the server reads, the image runs what the unit runs, the
// image build leaves out what install.sh leaves out, the guide's shell blocks are each run
// by a test or say why not, and the guide's Compose secrets are what the server reads.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfig } from '../../src/config.js';
import { ROOT } from '../helpers/cli.js';
import { DEPLOY, composeEnvironment, readDockerfile, readUnit } from '../helpers/deploy-files.js';
import { described, guideBlocks, runGuideBlock } from '../helpers/guide.js';

const GUIDE_PATH = join(ROOT, 'docs/deployment.md');
const DEPLOY_FILES = ['Dockerfile', 'Dockerfile.dockerignore', 'compose.yaml', 'scope-auth@.service', 'install.sh', 'healthcheck.mjs', 'nginx/scope-auth.conf', 'caddy/Caddyfile'];
const read = (file: string) => readFileSync(join(DEPLOY, file), 'utf8');

describe('deploy/ and the deployment guide', () => {
  it('set no SCOPE_AUTH_ variable the server does not read', () => {
    for (const [file, text] of [...DEPLOY_FILES.map((file) => [file, read(file)]), ['docs/deployment.md', readFileSync(GUIDE_PATH, 'utf8')]] as const) {
      const unknown = [...new Set(text.match(/SCOPE_AUTH_[A-Z0-9_]+/g) ?? [])].filter((name) => !(name in DEFAULTS) && name !== 'SCOPE_AUTH_API_URL');
      expect(unknown, `${file} names ${unknown.join(', ')}`).toEqual([]);
    }
  });

  it('mark each shell block of the guide as run by a test, or say why it is not', () => {
    const tests = ['test/deploy/proxy.test.ts', 'test/helpers/proxy-checks.ts', 'test/deploy/files.test.ts'].map((file) => readFileSync(join(ROOT, file), 'utf8')).join('\n');
    const blocks = guideBlocks(GUIDE_PATH);
    expect(blocks.length).toBeGreaterThan(5);
    for (const block of blocks) {
      expect(block.name ?? block.reason, `docs/deployment.md:${block.line}: mark the block <!-- test: run NAME --> or <!-- test: not run: REASON -->`).not.toBeNull();
      if (block.name !== null) expect(tests, `no test runs the block "${block.name}"`).toContain(`'${block.name}'`);
    }
    expect(new Set(blocks.flatMap((block) => block.name ?? [])).size).toBe(blocks.filter((block) => block.name !== null).length);
  });

  it('build the image with install.sh and run it as the unit runs the server', () => {
    const dockerfile = readDockerfile();
    expect(dockerfile.text).toMatch(/^RUN sh \/src\/deploy\/install\.sh \/src \/app$/m);
    expect(dockerfile.text).toMatch(/^COPY --from=build \/app \/app$/m);
    const asUnit = readUnit().execStart.map((arg) => arg.replace('/usr/bin/node', 'node').replace('/opt/scope-auth/', '/app/'));
    expect(dockerfile.cmd).toEqual(asUnit);
    expect(dockerfile.healthcheck).toEqual(['node', '/app/deploy/healthcheck.mjs']);
    // The node_modules of the final stage are the pruned ones: no build tools reach it.
    expect(dockerfile.text.split(/^FROM /m)[2]).not.toMatch(/npm (ci|install)/);
  });

  it('run the image as uid 10001, the owner the guide gives the Compose secrets, with its state on a volume', () => {
    const dockerfile = readDockerfile();
    expect(dockerfile.text).toMatch(/useradd --system --uid 10001 /);
    expect(dockerfile.text).toMatch(/^USER scope-auth$/m);
    expect(dockerfile.text).toContain(`VOLUME ["${dockerfile.workdir}"]`);
    expect(readFileSync(GUIDE_PATH, 'utf8')).toContain('chown 10001:10001 secrets/kek secrets/database-url');
  });

  it('leave out of an image build what install.sh leaves out of a tree', () => {
    const excluded = [...read('install.sh').matchAll(/--exclude='?([^' \\]+)'?/g)].map(([, pattern]) => pattern!.replace(/^\.\//, ''));
    const ignored = read('Dockerfile.dockerignore')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.replace(/^\*\*\//, ''));
    expect(new Set(ignored)).toEqual(new Set(excluded));
  });

  it('trust exactly the one proxy in front of the instances', () => {
    expect(composeEnvironment().SCOPE_AUTH_TRUST_PROXY).toBe('1');
    expect(readFileSync(GUIDE_PATH, 'utf8')).toContain('SCOPE_AUTH_TRUST_PROXY=1\n');
    for (const file of ['nginx/scope-auth.conf', 'caddy/Caddyfile']) expect(read(file)).toContain('SCOPE_AUTH_TRUST_PROXY=1');
    expect(read('nginx/scope-auth.conf')).toContain('proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
  });

  it('hand the secrets over as files, and give a stop more time than the drain takes', () => {
    const compose = read('compose.yaml');
    const env = composeEnvironment();
    expect(env).toMatchObject({ SCOPE_AUTH_KEK_FILE: '/run/secrets/kek', SCOPE_AUTH_DATABASE_URL_FILE: '/run/secrets/database-url' });
    expect(env).not.toHaveProperty('SCOPE_AUTH_KEK');
    expect(env).not.toHaveProperty('SCOPE_AUTH_DATABASE_URL');
    for (const secret of ['kek', 'database-url']) expect(compose).toContain(`  ${secret}:\n    file: ./secrets/${secret}\n`);
    const grace = Number(env.SCOPE_AUTH_SHUTDOWN_GRACE ?? DEFAULTS.SCOPE_AUTH_SHUTDOWN_GRACE);
    // The drain: the grace for requests in flight, then idle keep-alive connections (5 s).
    expect(Number(/stop_grace_period: (\d+)s/.exec(compose)![1])).toBeGreaterThan(grace + 5);
    const unit = new Map(readUnit().service);
    expect(Number(/^(\d+)s$/.exec(unit.get('TimeoutStopSec')!)![1])).toBeGreaterThan(Number(DEFAULTS.SCOPE_AUTH_SHUTDOWN_GRACE) + 5);
    expect(unit.get('KillSignal')).toBe('SIGTERM');
    expect(readUnit().service.filter(([key]) => key === 'LoadCredential').map(([, value]) => value.split(':')[0])).toEqual(['kek', 'database-url']);
  });

  describe("the guide's Compose secrets", () => {
    const dir = mkdtempSync(join(tmpdir(), 'scope-auth-compose-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const root = process.getuid?.() === 0;

    it.skipIf(!root)(`are a KEK and a database URL the server reads, readable by uid 10001 only${root ? '' : ' (skipped: chown needs root)'}`, async () => {
      cpSync(DEPLOY, join(dir, 'deploy'), { recursive: true });
      const run = await runGuideBlock(guideBlocks(GUIDE_PATH), 'compose-secrets', { swaps: [], cwd: dir, env: { PATH: process.env.PATH ?? '' }, timeoutMs: 15_000 });
      expect(run.code, described('compose-secrets', run)).toBe(0);
      const secrets = join(dir, 'deploy/secrets');
      // As the instances read them, at the paths compose.yaml mounts them on.
      const config = loadConfig({ SCOPE_AUTH_KEK_FILE: join(secrets, 'kek'), SCOPE_AUTH_DATABASE_URL_FILE: join(secrets, 'database-url') });
      expect(config.kek).toHaveLength(32);
      const password = readFileSync(join(secrets, 'postgres-password'), 'utf8').trim();
      expect(config.databaseUrl).toBe(`postgres://scope_auth:${password}@postgres:5432/scope_auth`);
      for (const file of ['kek', 'database-url']) {
        const stat = statSync(join(secrets, file));
        expect({ uid: stat.uid, mode: stat.mode & 0o777 }).toEqual({ uid: 10001, mode: 0o400 });
      }
      expect((statSync(secrets).mode & 0o777).toString(8)).toBe('700');
      expect(readFileSync(join(dir, 'deploy/.env'), 'utf8')).toBe('AUTH_DOMAIN=auth.example.com\n');
      // Git never holds them.
      expect(execFileSync('git', ['check-ignore', 'deploy/secrets/kek'], { cwd: ROOT, encoding: 'utf8' }).trim()).toBe('deploy/secrets/kek');
    });
  });
});
