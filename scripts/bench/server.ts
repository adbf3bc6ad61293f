// The server under test and its database: a temporary SQLite file or a fresh PostgreSQL
// schema, migrated and seeded directly, and the server started on it as `npm start` does.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { createDatabase, migrateToLatest, type DatabaseHandle, type Dialect } from '../../src/store/database.js';
import { log, type Rig } from './bench.js';
import { ROOT, TSX, collect, stopper, type Processes, type Running } from './processes.js';
import { seedDatabase } from './seed.js';
import { freePort } from '../free-port.js';
import { startCommand } from '../start-command.js';

/** How the server under test is started: node's arguments, and the extra environment of `--env`. */
export interface ServerCommand {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The server as `npm start` runs it (its Node options included) — or another build of it
 * (`--server`), or src/ with tsx (`--source`).
 */
export function serverCommand(options: { server?: string | undefined; source: boolean; env: Record<string, string> }): ServerCommand {
  const start = startCommand(ROOT);
  const main = options.server ?? start.script;
  if (!options.source && !existsSync(resolve(ROOT, main))) {
    throw new Error(`${main} is missing: run \`npm run build\` first (npm run bench does), or pass --source`);
  }
  return { argv: [...start.nodeOptions, ...(options.source ? [...TSX, 'src/main.ts'] : [main])], env: options.env };
}

/** The server with only our SCOPE_AUTH_* variables; resolves once /readyz answers. */
export async function startScopeAuth(processes: Processes, command: ServerCommand, env: Record<string, string>): Promise<Running> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SCOPE_AUTH_')));
  const child = processes.spawnNode(command.argv, { ...base, ...env });
  const out = collect(child);
  const url = `http://127.0.0.1:${env.SCOPE_AUTH_PORT}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: ${out.stderr()}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server did not become ready: ${out.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, pid: child.pid!, stop: stopper(child) };
}

export interface BenchDatabase {
  /** The benchmark's own connection, for seeding. */
  readonly handle: DatabaseHandle;
  /** The database URL the server is given. */
  readonly serverUrl: string;
  /** PostgreSQL: the application_name in `serverUrl`, which finds the server's backends in pg_stat_activity. */
  readonly applicationName: string | null;
  drop(): Promise<void>;
}

export async function openBenchDatabase(workDir: string, dialect: Dialect, pgUrl: string | null, name: string): Promise<BenchDatabase> {
  if (dialect === 'sqlite') {
    const file = join(workDir, `${name}.sqlite`);
    const handle = await createDatabase(`sqlite:${file}`);
    return { handle, serverUrl: `sqlite:${file}`, applicationName: null, drop: async () => undefined };
  }
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const handle = await createDatabase(pgUrl!, { schema });
  const url = new URL(pgUrl!);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const applicationName = `scope_auth_${schema}`;
  url.searchParams.set('application_name', applicationName);
  return {
    handle,
    serverUrl: url.toString(),
    applicationName,
    async drop() {
      const client = new pg.Client({ connectionString: pgUrl! });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}

export type BenchServer = Awaited<ReturnType<typeof startBenchServer>>;

/**
 * A database seeded with `plan.smallKeys` keys (`working` of them to exchange) and a server
 * on it; `env` adds to the server's environment (`--env` still has the last word).
 */
export async function startBenchServer(rig: Rig, dialect: Dialect, pgUrl: string | null, name: string, counts: { working: number }, extraEnv: Record<string, string> = {}) {
  const database = await openBenchDatabase(rig.workDir, dialect, pgUrl, name);
  let server: Running | undefined;
  try {
    await migrateToLatest(database.handle.db);
    const port = await freePort();
    const env: Record<string, string> = {
      SCOPE_AUTH_HOST: '127.0.0.1',
      SCOPE_AUTH_PORT: String(port),
      SCOPE_AUTH_ISSUER: `http://127.0.0.1:${port}`,
      SCOPE_AUTH_DATABASE_URL: database.serverUrl,
      SCOPE_AUTH_KEYS_DIR: join(rig.workDir, `keys-${dialect}-${name}`),
      SCOPE_AUTH_LOG_LEVEL: 'warn',
      ...extraEnv,
      ...rig.serverCommand.env,
    };
    const config = loadConfig(env);
    log(`${dialect}: seeding ${rig.plan.smallKeys} keys (${name})`);
    const seeded = await seedDatabase(database.handle.db, config.argon2, { total: rig.plan.smallKeys, working: counts.working });
    server = await startScopeAuth(rig.processes, rig.serverCommand, env);
    log(`${dialect}: server ${server.url} (pid ${server.pid}, ${name}), argon2 concurrency ${config.argon2.concurrency}`);
    const exchangeBody = (keyId: string) => JSON.stringify({ org_id: seeded.orgId, key_id: keyId, secret: seeded.secret });
    const tokenUrl = `${server.url}/v1/token`;
    const bodies = seeded.workingKeys.map(exchangeBody);
    const running = server;
    return {
      database,
      env,
      config,
      seeded,
      server,
      tokenUrl,
      bodies,
      exchangeBody,
      async stop() {
        await running.stop();
        await database.handle.close();
        await database.drop();
      },
    };
  } catch (error) {
    await server?.stop();
    await database.handle.close();
    await database.drop();
    throw error;
  }
}
