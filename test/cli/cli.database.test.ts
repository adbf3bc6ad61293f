// The CLI on each dialect: `migrate`, the refusal to work on a schema that is not this
// version's, and a short operator session on the migrated database.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../db/migrations/index.js';
import { systemClock } from '../../src/domain/clock.js';
import { createArgon2Hasher } from '../../src/domain/hashing.js';
import { bootstrapRootOrg } from '../../src/domain/orgs.js';
import { loadCatalog } from '../../src/domain/scopes.js';
import { createDatabase, type DatabaseHandle } from '../../src/store/database.js';
import { buildCli, databaseUrlFor, type Cli } from '../helpers/cli.js';
import { DIALECTS, dialectTitle, PG_URL } from '../helpers/db.js';

const MIGRATIONS = Object.keys(migrations).sort();

let cli: Cli;
beforeAll(async () => {
  cli = await buildCli();
});
afterAll(() => cli?.remove());

describe.each(DIALECTS)('the CLI and the database schema on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let dir: string;
    let url: string;
    let where: string;
    let schema: string | undefined;
    let handle: DatabaseHandle | undefined;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'scope-auth-cli-db-'));
      if (dialectCase.dialect === 'sqlite') {
        url = `sqlite:${join(dir, 'fresh.sqlite')}`;
        where = url;
      } else {
        schema = `t_${randomBytes(6).toString('hex')}`;
        url = databaseUrlFor({ url: PG_URL!, schema });
        where = url;
      }
    });
    afterAll(async () => {
      await handle?.close();
      rmSync(dir, { recursive: true, force: true });
      if (schema !== undefined) {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      }
    });

    const run = (...args: string[]) => cli.run(args, { SCOPE_AUTH_DATABASE_URL: url });
    /** A handle of our own on the same data, to look at and tamper with the schema. */
    async function db() {
      handle ??= await createDatabase(schema === undefined ? url : PG_URL!, schema === undefined ? {} : { schema });
      return handle.db;
    }

    it('refuses an empty database until migrate has run, and migrate is safe to repeat', async () => {
      if (dialectCase.dialect === 'sqlite') {
        const missing = await run('orgs', 'list');
        expect(missing.code).toBe(1);
        expect(missing.stderr).toContain(`scope-auth: no SQLite database at ${url.slice('sqlite:'.length)}`);
        expect(existsSync(url.slice('sqlite:'.length))).toBe(false);
      }
      await db(); // an empty database (PostgreSQL: an empty schema), as an operator creates one
      const empty = await run('keys', 'list', '--org', 'org_01J00000000000000000000000');
      expect(empty).toEqual({ code: 1, stdout: '', stderr: `scope-auth: the database ${where} is not initialized: run "scope-auth migrate" or start the server first\n` });

      const migrated = await run('migrate');
      expect(migrated).toEqual({ code: 0, stdout: `Migrated ${where}: applied ${MIGRATIONS.join(', ')}.\n`, stderr: '' });
      expect(await cli.json(['migrate'], { SCOPE_AUTH_DATABASE_URL: url })).toEqual({ database: where, applied: [] });
      const again = await run('migrate');
      expect(again.stdout).toBe(`The database ${where} is up to date.\n`);

      // Migrated but never started: there is no root organization to act from yet.
      const noRoot = await run('orgs', 'create', 'acme');
      expect(noRoot.code).toBe(1);
      expect(noRoot.stderr).toBe('scope-auth: there is no root organization yet: run "scope-auth init" or start the server once ("scope-auth serve"); either creates it and its admin key\n');
    });

    it('refuses a schema behind or ahead of this version, and migrate refuses one ahead', async () => {
      const kysely = await db();
      const last = MIGRATIONS.at(-1)!;
      const row = await kysely.selectFrom('kysely_migration' as never).selectAll().where('name' as never, '=', last as never).executeTakeFirstOrThrow();
      await kysely.deleteFrom('kysely_migration' as never).where('name' as never, '=', last as never).execute();
      const behind = await run('apps', 'list', '--org', 'org_01J00000000000000000000000');
      await kysely.insertInto('kysely_migration' as never).values(row as never).execute();
      expect(behind).toEqual({
        code: 1,
        stdout: '',
        stderr: `scope-auth: the database ${where} needs migrations this version requires (${last}): run "scope-auth migrate" first\n`,
      });

      await kysely.insertInto('kysely_migration' as never).values({ name: '9999-from-the-future', timestamp: new Date().toISOString() } as never).execute();
      const ahead = await Promise.all([run('apps', 'list', '--org', 'org_01J00000000000000000000000'), run('migrate')]);
      await kysely.deleteFrom('kysely_migration' as never).where('name' as never, '=', '9999-from-the-future' as never).execute();
      for (const result of ahead) {
        expect(result).toEqual({
          code: 1,
          stdout: '',
          stderr: `scope-auth: the database ${where} was migrated by a newer version of scope-auth (9999-from-the-future); use that version\n`,
        });
      }
    });

    it('runs an operator session once the server has created the root organization', async () => {
      const hasher = createArgon2Hasher({ memoryKiB: 1024, timeCost: 1, parallelism: 1 });
      await bootstrapRootOrg({ db: await db(), hasher, secretDigest: () => null, clock: systemClock, catalog: loadCatalog(null) });
      const json = <T>(...args: string[]) => cli.json<T>(args, { SCOPE_AUTH_DATABASE_URL: url });

      const org = await json<{ org: { id: string } }>('orgs', 'create', 'acme');
      const app = await json<{ id: string }>('apps', 'create', '--org', org.org.id, '--name', 'worker', '--scope', 'runtime:run');
      const key = await json<{ key: { id: string } }>('keys', 'create', '--org', org.org.id, '--app', app.id, '--name', 'worker-1');
      expect(await json('keys', 'revoke', key.key.id, '--org', org.org.id)).toMatchObject({ id: key.key.id, status: 'revoked', revoked_by: 'cli' });
      const audit = await json<{ data: { action: string; actor: string }[] }>('audit', '--org', org.org.id);
      expect(audit.data.map((e) => `${e.actor} ${e.action}`)).toEqual([
        'cli key.revoked',
        'cli key.created',
        'cli app.created',
        'cli key.created',
        'cli app.created',
        'cli org.created',
      ]);
    });
  });
});
