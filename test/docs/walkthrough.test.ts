// The curl walk-through of docs/getting-started.md and docs/admin-api.md, run as a reader
// pastes it: every marked shell block, in order, in one bash session (so the variables one
// block sets are there for the next), against a real server on a temporary SQLite database
// and a free port. A block marked `test: run` that fails, or a shell block marked neither
// way, fails the test.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { described, guideBlocks, runCommand, swapped, type GuideBlock } from '../helpers/guide.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const PAGES = ['docs/getting-started.md', 'docs/admin-api.md'];
const HAS = (command: string) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
const TOOLS = HAS('curl') && HAS('jq');
if (!TOOLS) console.warn('the docs walk-through not run: it needs curl and jq');

const blocksOf = (page: string) => guideBlocks(join(ROOT, page)).map((block) => ({ ...block, page }));

describe('the docs walk-through', () => {
  it('marks each shell block of its pages as run by this test, or says why not', () => {
    for (const page of PAGES) {
      for (const block of blocksOf(page)) {
        expect(block.name ?? block.reason, `${page}:${block.line}: mark the block <!-- test: run NAME --> or <!-- test: not run: REASON -->`).not.toBeNull();
      }
    }
  });

  describe.skipIf(!TOOLS)('pasted in order against a fresh server', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(async () => {
      await server?.close();
    });

    it('runs every block to success, without touching the root admin key', async () => {
      const url = server.url;
      // The placeholders each page writes for what the first start printed.
      const swaps: Record<string, readonly (readonly [string, string])[]> = {
        exchange: [
          ['org_…', server.orgId],
          ['key_…', server.keyId],
          ['secret_…', server.secret],
          ['http://localhost:8080', url],
        ],
        jwks: [['http://localhost:8080', url]],
        'admin-token': [
          ['http://localhost:8080', url],
          ['org_01J…', server.orgId],
          ['key_01J…', server.keyId],
          ['secret_…', server.secret],
        ],
      };
      const blocks: (GuideBlock & { page: string })[] = PAGES.flatMap(blocksOf).filter((block) => block.name !== null);
      expect(blocks.map((block) => block.name)).toEqual(expect.arrayContaining(['admin-token', 'create-app', 'create-key', 'roll-key', 'revoke-key']));
      // Each block announces itself on stderr, so a failure names the block it stopped in.
      const script = blocks.map((block) => `echo "== ${block.page}: ${block.name}" >&2\n${swapped(block, swaps[block.name!] ?? [])}`).join('\n');
      const run = await runCommand(['bash', '-euo', 'pipefail', '-c', `${script}\necho "ADMIN_KEY_ID=$ADMIN_KEY_ID KEY_ID=$KEY_ID NEW_KEY_ID=$NEW_KEY_ID APP_ID=$APP_ID"`], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
        timeoutMs: 60_000,
      });
      expect(run.code, described('walk-through', run)).toBe(0);
      const ids = Object.fromEntries([...run.stdout.matchAll(/(ADMIN_KEY_ID|KEY_ID|NEW_KEY_ID|APP_ID)=(\S+)/g)].map(([, name, value]) => [name, value]));
      expect(ids['ADMIN_KEY_ID']).toBe(server.keyId);
      expect(new Set([ids['ADMIN_KEY_ID'], ids['KEY_ID'], ids['NEW_KEY_ID']]).size).toBe(3);
      expect(ids['APP_ID']).toMatch(/^app_/);

      // The root admin key still works: the walk-through rolled and revoked the new key only.
      const res = await fetch(`${url}/v1/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ org_id: server.orgId, key_id: server.keyId, secret: server.secret }),
      });
      expect(res.status).toBe(200);
    }, 90_000);
  });
});
