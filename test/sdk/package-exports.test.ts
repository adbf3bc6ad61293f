// The compiled SDK as a consumer sees it: `scope-auth/client` and `scope-auth/verifier`
// resolved through package.json `exports`, from plain JavaScript and from TypeScript.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const sdkSources = ['client', 'verifier', 'verifier-options', 'token-claims', 'org-pin', 'errors'];
const compiled = (name: string) => join(root, 'dist/src/sdk', `${name}.js`);

/** Why the compiled SDK is unavailable, or undefined when it is there. */
let unavailable: string | undefined;

function isStale(): boolean {
  return sdkSources.some((name) => {
    const js = compiled(name);
    return !existsSync(js) || statSync(js).mtimeMs < statSync(join(root, 'src/sdk', `${name}.ts`)).mtimeMs;
  });
}

beforeAll(async () => {
  if (!isStale()) return;
  // tsc still emits when other files have errors; only errors in src/sdk make this a failure.
  const result = await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, timeout: 170_000 }).then(
    () => undefined,
    (err: { stdout?: string }) => err.stdout ?? String(err),
  );
  const sdkErrors = (result ?? '').split('\n').filter((line) => line.startsWith('src/sdk/'));
  if (sdkErrors.length > 0) throw new Error(`the SDK does not compile:\n${sdkErrors.join('\n')}`);
  if (isStale()) unavailable = `npm run build did not produce dist/src/sdk (outside src/sdk):\n${result ?? ''}`;
}, 180_000);

function skipUnlessBuilt(ctx: { skip: (note?: string) => void }) {
  if (unavailable !== undefined) {
    console.warn(`skipping: ${unavailable}`);
    ctx.skip(unavailable);
  }
}

describe('the published SDK', () => {
  it('imports from plain JavaScript through the package exports, and a background refresh does not keep the process alive', async (ctx) => {
    skipUnlessBuilt(ctx);
    const script = `
      import { ScopeAuthClient, ScopeAuthError } from 'scope-auth/client';
      import { createVerifier, TokenVerificationError } from 'scope-auth/verifier';
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
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, timeout: 15_000 });
    expect(JSON.parse(stdout)).toEqual({ token: 'tok', code: 'token_malformed', typed: true, config: 'invalid_config', guard: 'function' });
  }, 20_000);

  it('pulls in nothing but jose and its own modules: no server code, no node built-ins, no native module', (ctx) => {
    skipUnlessBuilt(ctx);
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
    visit(compiled('client'));
    visit(compiled('verifier'));
    expect([...bare]).toEqual(['jose']);
    expect([...seen].map((f) => relative(root, f)).sort()).toEqual([
      'dist/src/sdk/client.js',
      'dist/src/sdk/errors.js',
      'dist/src/sdk/org-pin.js',
      'dist/src/sdk/token-claims.js',
      'dist/src/sdk/verifier-options.js',
      'dist/src/sdk/verifier.js',
    ]);
  });

  it('type-checks a TypeScript consumer, including req.auth on Express requests', async (ctx) => {
    skipUnlessBuilt(ctx);
    const dir = join(root, 'dist/sdk-consumer-check');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'consumer.ts'),
      `import express from 'express';
import { ScopeAuthClient, ScopeAuthError } from 'scope-auth/client';
import { createVerifier, type AccessTokenClaims } from 'scope-auth/verifier';

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
    const result = await run('npx', [...args, '--lib', 'es2023', '--types', 'node', join(dir, 'consumer.ts')], { cwd: root, timeout: 60_000 }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? String(err),
    );
    expect(result).toBe('');
  }, 70_000);
});
