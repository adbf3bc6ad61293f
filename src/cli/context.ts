// How a CLI command reaches the server's data: the configured database, a check that its
// schema is the one this version was written for, the same dependencies the HTTP routes
// use, the operator as actor `cli`, and a close that always runs (no hanging process).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AppDeps } from '../app.js';
import { loadConfig, type Config } from '../config.js';
import { cliActor, type Actor, type AdminDeps } from '../domain/actor.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { createArgon2Hasher } from '../domain/hashing.js';
import { loadKek } from '../domain/kek.js';
import { createSecretDigest, type SecretDigest } from '../domain/secret-digest.js';
import { loadCatalog } from '../domain/scopes.js';
import { createDatabase, DatabaseNotFoundError, migrationStatus, type DatabaseHandle, type Db } from '../store/database.js';
import { hasAuditEvents } from '../store/audit-events.js';
import { getOrg, getRootOrg } from '../store/orgs.js';
import { colourEnabled, createOutput, type Output, type Writable } from './output.js';

export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal: colour only then (and only without NO_COLOR). */
  readonly isTTY: boolean;
  /** Times, expiries and relative times; the system clock unless a test injects one. */
  readonly clock?: Clock;
  /** `serve` runs until this resolves (the process entry wires SIGTERM and SIGINT to it). */
  readonly untilStopped?: () => Promise<string>;
}

/** The command line is wrong (exit 2): a bad option value, a missing argument. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command was understood but cannot be carried out (exit 1); the message says why and what to do. */
export class CommandError extends Error {
  override name = 'CommandError';
}

export function outputFor(io: CliIo): Output {
  return createOutput({ stdout: io.stdout, colour: colourEnabled(io.isTTY, io.env), clock: io.clock ?? systemClock });
}

/** An error's message; some (a connection refused on every address) have only a code. */
export function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const nested = error instanceof AggregateError ? error.errors.map(reason).join('; ') : '';
  return error.message || nested || code || error.name;
}

/** The database URL without its password, for messages. */
export function describeDatabase(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) return url;
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.searchParams.delete('password');
    return parsed.toString();
  } catch {
    return 'the PostgreSQL database';
  }
}

/**
 * Opens the configured database for a command that reads or changes data. It refuses a
 * database whose schema differs from this version's instead of migrating it: a read such
 * as `keys list` should never alter a schema under a running server, and an upgrade is a
 * step the operator takes on purpose (`scope-auth migrate`, or starting the new server).
 */
async function openDatabase(config: Config): Promise<DatabaseHandle> {
  const where = describeDatabase(config.databaseUrl);
  let handle: DatabaseHandle;
  try {
    handle = await createDatabase(config.databaseUrl, { mustExist: true, pool: config.database });
  } catch (error) {
    if (error instanceof DatabaseNotFoundError) {
      throw new CommandError(
        `${error.message} (SCOPE_AUTH_DATABASE_URL=${where}): run "scope-auth migrate" or start the server first, or point SCOPE_AUTH_DATABASE_URL at the server's database`,
      );
    }
    throw new CommandError(`cannot open the database ${where}: ${reason(error)}`);
  }
  try {
    let status;
    try {
      status = await migrationStatus(handle.db);
    } catch (error) {
      throw new CommandError(`cannot reach the database ${where}: ${reason(error)}`);
    }
    if (status.unknown.length > 0) {
      throw new CommandError(
        `the database ${where} was migrated by a newer version of scope-auth (${status.unknown.join(', ')}); use that version`,
      );
    }
    if (status.pending.length > 0) {
      throw new CommandError(
        status.applied.length === 0
          ? `the database ${where} is not initialized: run "scope-auth migrate" or start the server first`
          : `the database ${where} needs migrations this version requires (${status.pending.join(', ')}): run "scope-auth migrate" first`,
      );
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export interface Session {
  readonly config: Config;
  readonly db: Db;
  readonly deps: AdminDeps;
  /** The operator acting inside `orgId`; CommandError when there is no such org. */
  actorIn(orgId: string): Promise<Actor>;
  /** As actorIn, and also for an org that was deleted: its audit log stays readable. */
  readerOfLog(orgId: string): Promise<Actor>;
  /** The operator acting from the root org, for commands about orgs themselves. */
  rootActor(): Promise<Actor>;
}

function configFrom(io: CliIo): Config {
  return loadConfig(io.env);
}

/** Runs `work` with the database open and closes it whatever happens. */
export async function withSession<T>(io: CliIo, work: (session: Session) => Promise<T>): Promise<T> {
  const config = configFrom(io);
  const handle = await openDatabase(config);
  try {
    const db = handle.db;
    // The admin use cases need no signing key, so neither does the CLI for them: the KEK is
    // read only to make a new key's lookup digest, and a command works from any directory
    // that has the server's environment.
    const deps: AdminDeps = {
      db,
      hasher: createArgon2Hasher(config.argon2),
      secretDigest: cliSecretDigest(config, io),
      clock: io.clock ?? systemClock,
      catalog: loadCatalog(config.catalogPath),
      config,
    };
    const session: Session = {
      config,
      db,
      deps,
      async actorIn(orgId) {
        if (!(await getOrg(db, orgId))) throw new CommandError(`no organization ${orgId} ("scope-auth orgs list" shows them)`);
        return cliActor(orgId);
      },
      async readerOfLog(orgId) {
        if (!(await getOrg(db, orgId)) && !(await hasAuditEvents(db, orgId))) {
          throw new CommandError(`no organization ${orgId} ("scope-auth orgs list" shows them)`);
        }
        return cliActor(orgId);
      },
      async rootActor() {
        const root = await getRootOrg(db);
        if (!root) {
          throw new CommandError('there is no root organization yet: run "scope-auth init" or start the server once ("scope-auth serve"); either creates it and its admin key');
        }
        return cliActor(root.id);
      },
    };
    return await work(session);
  } finally {
    await handle.close();
  }
}

/**
 * The server's KEK when this process can read it (SCOPE_AUTH_KEK, SCOPE_AUTH_KEK_FILE, or
 * keys/kek in SCOPE_AUTH_KEYS_DIR), else null: the CLI never creates one, as a new KEK could
 * not decrypt the server's keys.
 */
export function existingKek(config: Config): Buffer | null {
  if (config.kek !== null) return config.kek;
  if (!existsSync(join(config.keysDir, 'kek'))) return null;
  return loadKek(null, config.keysDir).kek;
}

/**
 * New keys' lookup digest, which leak reports find a key by, is keyed by the server's KEK. It
 * is read when the first key is made; without one the key gets no digest, and stderr says so.
 */
function cliSecretDigest(config: Config, io: CliIo): SecretDigest {
  let digest: SecretDigest | undefined;
  return (secret) => {
    if (digest === undefined) {
      const kek = existingKek(config);
      if (kek === null) {
        io.stderr.write(
          `scope-auth: note: no key-encryption key (SCOPE_AUTH_KEK is not set and ${join(config.keysDir, 'kek')} does not exist), so the new key gets no lookup digest: a leak report of its secret (POST /v1/leaks, keys report-leak) cannot find it. Run with the server's SCOPE_AUTH_KEK or SCOPE_AUTH_KEYS_DIR to avoid this.\n`,
        );
      }
      digest = kek === null ? () => null : createSecretDigest(kek);
    }
    return digest(secret);
  };
}

/**
 * The server's key-encryption key, for commands that seal or open what it protects (signing
 * keys, webhook secrets). The CLI never creates one (a new KEK could not open the server's
 * secrets), so a missing one is an error naming where it was looked for.
 */
export async function serverKek(config: Config): Promise<Buffer> {
  const kekFile = join(config.keysDir, 'kek');
  if (config.kek === null && !existsSync(kekFile)) {
    throw new CommandError(
      `no key-encryption key: SCOPE_AUTH_KEK is not set and ${kekFile} does not exist; run with the server's SCOPE_AUTH_KEK or SCOPE_AUTH_KEYS_DIR (or from its directory)`,
    );
  }
  return loadKek(config.kek, config.keysDir).kek;
}

/**
 * Runs `work` with the services a server builds, for commands on signing keys. Those need
 * the key-encryption key; the CLI never creates one (a new KEK could not decrypt the
 * server's keys), so a missing one is an error naming where it was looked for.
 */
export async function withServices<T>(io: CliIo, work: (deps: AppDeps) => Promise<T>): Promise<T> {
  const config = configFrom(io);
  const kek = await serverKek(config);
  // Loaded here, not at the top: the commands that need no signing key start faster.
  const [{ createServices }, { pino }] = await Promise.all([import('../services.js'), import('pino')]);
  const handle = await openDatabase(config);
  try {
    const logger = pino({ level: 'silent' });
    const deps = await createServices(config, { db: handle.db, kek, logger, ...(io.clock ? { clock: io.clock } : {}) });
    return await work(deps);
  } finally {
    await handle.close();
  }
}
