// examples/five-minute.sh, run whole as a newcomer runs it: it starts its own server and
// service on free ports, and must end with the 201 and the 403, having stopped both.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_LOG_DIR_VARIABLE } from '../helpers/log-scan.js';
import { EXAMPLES, runExample } from '../helpers/examples.js';
import { freePort } from '../helpers/server.js';

const CURL = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;
if (!CURL) console.warn('examples/five-minute.sh not run: it needs curl');

describe.skipIf(!CURL)('examples/five-minute.sh', () => {
  it('starts a server, creates an app and a key, and shows a 201 for the right token and a 403 for one without the scope', async () => {
    const [authPort, servicePort] = [await freePort(), await freePort()];
    const logDir = process.env[TEST_LOG_DIR_VARIABLE];
    const run = await runExample(
      'bash',
      [join(EXAMPLES, 'five-minute.sh')],
      {
        AUTH_PORT: String(authPort),
        SERVICE_PORT: String(servicePort),
        // Cheap argon2, as every test server has; the log goes where the run's credential scan reads it.
        SCOPE_AUTH_ARGON2_MEMORY_KIB: '1024',
        SCOPE_AUTH_ARGON2_TIME_COST: '1',
        ...(logDir ? { SERVER_LOG: join(logDir, `spawned-five-minute-${process.pid}.log`) } : {}),
      },
      110_000,
    );
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('→ 201');
    expect(run.stdout).toContain('→ 403');
    expect(run.stdout).toContain('five-minute path: OK');
    // It stopped what it started: nothing answers on its ports any more.
    for (const port of [authPort, servicePort]) {
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }
  }, 120_000);
});
