// A real server (startServer, as `npm start` runs it) in this process, on an ephemeral
// port, with a temporary SQLite database and keys directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config.js';
import type { Clock } from '../../src/domain/clock.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { freePort } from '../../scripts/free-port.js';
import { TEST_ENV, type TestEnv } from './context.js';
import { testLogger } from './test-logger.js';

export { freePort };

export interface TestServer {
  readonly url: string;
  /** Equals `url`: the server's SCOPE_AUTH_ISSUER. */
  readonly issuer: string;
  readonly orgId: string;
  readonly keyId: string;
  readonly secret: string;
  readonly server: RunningServer;
  /** Rotates the signing key so the new one signs at once. */
  rotateSigningKey(): Promise<void>;
  close(): Promise<void>;
}


export async function startTestServer(options: { env?: TestEnv; clock?: Clock; logger?: Logger } = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'scope-auth-server-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    ...TEST_ENV,
    SCOPE_AUTH_ISSUER: url,
    SCOPE_AUTH_PORT: String(port),
    SCOPE_AUTH_DATABASE_URL: `sqlite:${join(dir, 'scope-auth.sqlite')}`,
    SCOPE_AUTH_KEYS_DIR: join(dir, 'keys'),
    ...options.env,
  });
  const server = await startServer(config, { logger: options.logger ?? testLogger(), ...(options.clock ? { clock: options.clock } : {}) });
  const bootstrap = server.bootstrap!;
  return {
    url,
    issuer: url,
    orgId: bootstrap.org.id,
    keyId: bootstrap.key.id,
    secret: bootstrap.secret,
    server,
    async rotateSigningKey() {
      await server.deps.keyring.rotate({ immediate: true });
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
