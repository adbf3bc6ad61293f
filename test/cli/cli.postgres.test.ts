// The CLI and a server on one PostgreSQL database: a rotation reaches the server through its
// change feed, also after the feed's connection was terminated, and two rotations started
// at the same moment by two CLI processes make exactly one.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { serializedTransaction } from '../../src/store/serialized-transaction.js';
import { buildCli, databaseUrlFor, type Cli } from '../helpers/cli.js';
import { TEST_ENV } from '../helpers/context.js';
import { openTestDatabase, PG_URL, type TestDatabase } from '../helpers/db.js';
import { within } from '../helpers/wait.js';
import { freePort } from '../helpers/server.js';
import { testLogger } from '../helpers/test-logger.js';

/** Far less than the server's 5-second re-read: only a notification makes it this fast, most of the time. */
const NOTIFIED_WITHIN_MS = 1500;

interface RotationJson {
  activated: { kid: string; generation: number };
}

describe.skipIf(!PG_URL)(`the CLI and a server on one PostgreSQL database${PG_URL ? '' : ' (skipped: set SCOPE_AUTH_TEST_DATABASE_URL)'}`, () => {
  let database: TestDatabase;
  let dir: string;
  let cli: Cli;
  let server: RunningServer;
  let url: string;
  let admin: pg.Client;
  let baseUrl: URL;
  const serverName = `scope-auth server ${randomBytes(4).toString('hex')}`;

  /** The database URL with the session named `name` in pg_stat_activity. */
  const urlNamed = (name: string) => {
    const named = new URL(baseUrl);
    named.searchParams.set('application_name', name);
    return named.toString();
  };

  beforeAll(async () => {
    database = await openTestDatabase('postgres');
    baseUrl = new URL(databaseUrlFor(database));
    dir = mkdtempSync(join(tmpdir(), 'scope-auth-cli-pg-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env = {
      SCOPE_AUTH_DATABASE_URL: baseUrl.toString(),
      SCOPE_AUTH_KEK: randomBytes(32).toString('base64'),
      SCOPE_AUTH_KEYS_DIR: join(dir, 'keys'),
      SCOPE_AUTH_ISSUER: url,
      SCOPE_AUTH_PORT: String(port),
    };
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    [cli, server] = await Promise.all([
      buildCli(env),
      startServer(loadConfig({ ...TEST_ENV, ...env, SCOPE_AUTH_DATABASE_URL: urlNamed(serverName) }), { logger: testLogger() }),
    ]);
  });
  afterAll(async () => {
    cli?.remove();
    await server?.close();
    await admin?.end();
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tokenKid = async () => {
    const res = await fetch(`${url}/v1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ org_id: server.bootstrap!.org.id, key_id: server.bootstrap!.key.id, secret: server.bootstrap!.secret }),
    });
    return decodeProtectedHeader(((await res.json()) as { access_token: string }).access_token).kid;
  };
  const feedPid = async () =>
    (await admin.query<{ pid: number }>("select pid from pg_stat_activity where application_name = $1 and query ilike 'listen %'", [serverName])).rows[0]?.pid;
  const rotateNow = async () => (await cli.json<RotationJson>(['signing-keys', 'rotate', '--now'])).activated.kid;

  it('says servers learn of a rotation at once, and the server signs with the new key within moments', async () => {
    const result = await cli.run(['signing-keys', 'rotate', '--now']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('\nServers on this database learn of it at once (PostgreSQL LISTEN/NOTIFY), at the latest within 5 seconds.\n');
    const kid = /^Signing key (\S+) /.exec(result.stdout)![1];
    await within(NOTIFIED_WITHIN_MS, async () => (await tokenKid()) === kid);
    for (let i = 0; i < 2; i++) {
      const next = await rotateNow();
      await within(NOTIFIED_WITHIN_MS, async () => (await tokenKid()) === next);
    }
  });

  it('keeps serving and hears of rotations again after its feed\'s connection is terminated', async () => {
    await within(5000, async () => (await feedPid()) !== undefined);
    const killed = await feedPid();
    await admin.query('select pg_terminate_backend($1)', [killed]);
    const first = await rotateNow();
    await within(5000 + 2500, async () => (await tokenKid()) === first);
    await within(5000, async () => ![undefined, killed].includes(await feedPid()));
    const second = await rotateNow();
    await within(NOTIFIED_WITHIN_MS, async () => (await tokenKid()) === second);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('makes one rotation of two started at the same moment by two processes; the other says so and exits 1', async () => {
    const before = (await cli.json<{ data: Array<{ generation: number }> }>(['signing-keys', 'list'])).data.map((k) => k.generation);
    const names = [1, 2].map((i) => `scope-auth rotate ${i} ${randomBytes(4).toString('hex')}`);
    const waiting = async () =>
      Number(
        (
          await admin.query<{ count: string }>(
            "select count(*) from pg_stat_activity where application_name = any($1) and wait_event_type = 'Lock' and wait_event = 'advisory'",
            [names],
          )
        ).rows[0]!.count,
      );
    // While this session holds the rotation lock, both processes read the same keys and then queue for it.
    let runs: Promise<{ code: number | null; stdout: string; stderr: string }>[] = [];
    await serializedTransaction(database.handle.db, 'signing_keys', async () => {
      runs = names.map((name) => cli.run(['signing-keys', 'rotate', '--now'], { SCOPE_AUTH_DATABASE_URL: urlNamed(name) }));
      await within(20_000, async () => (await waiting()) === 2);
    });
    const results = await Promise.all(runs);
    expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
    const loser = results.find((r) => r.code === 1)!;
    expect(loser).toMatchObject({ stdout: '' });
    expect(loser.stderr).toBe(
      'scope-auth: another rotation of the signing keys happened at the same moment; nothing was changed — see "scope-auth signing-keys list"\n',
    );
    const after = (await cli.json<{ data: Array<{ generation: number }> }>(['signing-keys', 'list'])).data.map((k) => k.generation);
    expect(after).toEqual([...before, Math.max(...before) + 1]);
  });
});
