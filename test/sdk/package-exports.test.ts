// The compiled SDK as a consumer sees it, in both packages that ship it: `@scope-auth/sdk`
// (sdk/) and the server's `scope-auth/client` and `scope-auth/verifier` — resolved through
// each package.json's `exports` by a project that has the package in its node_modules, from
// plain JavaScript and from TypeScript. Vitest's global setup builds dist/ and sdk/dist when
// a source is newer (test/helpers/build-setup.ts); scripts/pack-install-test.sh does the
// same with the real tarballs, installed from the registry.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface PackageJson {
  name: string;
  version: string;
  engines?: Record<string, string>;
  exports: Record<string, { types: string; default: string } | string>;
  files?: string[];
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const readPackage = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
const server = readPackage(root);
const sdk = readPackage(join(root, 'sdk'));

const PACKAGES = [
  { name: '@scope-auth/sdk', dir: join(root, 'sdk'), compiled: 'sdk/dist' },
  { name: 'scope-auth', dir: root, compiled: 'dist/sdk/src' },
];

/** A project whose node_modules has the package (a link to its folder, as `npm link` makes). */
let consumer: string;

beforeAll(() => {
  consumer = join(root, 'node_modules/.cache', `scope-auth-sdk-consumer-${randomBytes(6).toString('hex')}`);
  mkdirSync(consumer, { recursive: true });
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  for (const { name, dir } of PACKAGES) {
    mkdirSync(dirname(join(consumer, 'node_modules', name)), { recursive: true });
    symlinkSync(dir, join(consumer, 'node_modules', name), 'dir');
  }
});

afterAll(() => {
  rmSync(consumer, { recursive: true, force: true });
});

describe('the SDK package', () => {
  it('has the server version, jose at the server range as its only dependency, and express types as an optional peer', () => {
    expect(sdk.version).toBe(server.version);
    expect(sdk.dependencies).toEqual({ jose: server.dependencies?.jose });
    expect(Object.keys(sdk.peerDependencies ?? {})).toEqual(['@types/express']);
    expect(sdk.peerDependenciesMeta).toEqual({ '@types/express': { optional: true } });
    expect(Object.keys(sdk.exports)).toEqual(['./client', './verifier', './package.json']);
    expect(Object.keys(server.exports)).toEqual(['./client', './verifier', './package.json']);
  });
});

describe.each(PACKAGES)('$name/client and $name/verifier', ({ name, dir, compiled }) => {
  it('import from plain JavaScript through the package exports, and a background refresh does not keep the process alive', async () => {
    const script = `
      import { ScopeAuthClient, ScopeAuthError } from '${name}/client';
      import { createVerifier, TokenVerificationError } from '${name}/verifier';
      const client = new ScopeAuthClient({
        orgId: 'org_x', apiKey: 'key_x', apiSecret: 'secret_x', authUrl: 'http://127.0.0.1:9',
        backgroundRefresh: true,
        fetch: async () => Response.json({ access_token: 'tok', token_type: 'Bearer', expires_in: 900, scope: '' }),
      });
      const token = await client.getToken();
      const verifier = createVerifier({ issuer: 'http://127.0.0.1:9', audience: 'api' });
      const err = await verifier.verify('not-a-token').catch((e) => e);
      let config;
      try { new ScopeAuthClient({ env: {} }) } catch (e) { config = e instanceof ScopeAuthError && e.code }
      console.log(JSON.stringify({ token, code: err.code, typed: err instanceof TokenVerificationError, config, guard: typeof verifier.require('a') }));
    `;
    writeFileSync(join(consumer, 'plain.mjs'), script);
    const { stdout } = await run(process.execPath, [join(consumer, 'plain.mjs')], { cwd: consumer, timeout: 15_000 });
    expect(JSON.parse(stdout)).toEqual({ token: 'tok', code: 'token_malformed', typed: true, config: 'invalid_config', guard: 'function' });
  }, 20_000);

  it('pull in nothing but jose and their own modules: no server code, no node built-ins, no native module', () => {
    const bare = new Set<string>();
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      // Doc comments quote example imports; only code counts.
      const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      for (const [, fromClause, dynamic] of source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/gm)) {
        const specifier = fromClause ?? dynamic;
        if (specifier === undefined) continue;
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
        else bare.add(specifier);
      }
    };
    const pkg = readPackage(dir);
    for (const entry of ['./client', './verifier']) {
      const target = pkg.exports[entry];
      if (typeof target !== 'object') throw new Error(`${name} exports ${entry} without conditions`);
      visit(join(dir, target.default));
    }
    expect([...bare]).toEqual(['jose']);
    expect([...seen].map((file) => relative(join(root, compiled), file)).sort()).toEqual([
      'client.js',
      'errors.js',
      'org-pin.js',
      'token-claims.js',
      'verifier-options.js',
      'verifier.js',
    ]);
  });

  it('type-check a TypeScript consumer, including req.auth on Express requests', async () => {
    const file = join(consumer, `consumer-${name.replace(/\W/g, '-')}.ts`);
    writeFileSync(
      file,
      `import express from 'express';
import { ScopeAuthClient, ScopeAuthError } from '${name}/client';
import { createVerifier, type AccessTokenClaims } from '${name}/verifier';

const auth = new ScopeAuthClient({ scope: ['runtime:run'], tokenRefreshBuffer: 30 });
const token: Promise<string> = auth.getToken();
const res: Promise<Response> = auth.fetch('https://api.example.test', { method: 'POST' });
const verifier = createVerifier({ issuer: 'https://auth.example.test', audience: 'https://api.example.test' });
const tenant = createVerifier({ issuer: 'https://auth.example.test', audience: 'https://api.example.test', orgId: (req) => req.params.orgId });
const pinned: Promise<AccessTokenClaims> = tenant.verify('token', { orgId: ['org_a', 'org_b'] });
const app = express();
app.get('/', verifier.require('runtime:run'), (req, res) => {
  const claims: AccessTokenClaims | undefined = req.auth;
  res.json({ org: claims?.org_id, scopes: claims?.scope.split(' ') });
});
export const checks = [token, res, pinned, ScopeAuthError];
`,
    );
    const args = ['tsc', '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext'];
    const result = await run('npx', [...args, '--lib', 'es2023', '--types', 'node', file], { cwd: root, timeout: 60_000 }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    expect(result).toBe('');
  }, 70_000);
});
