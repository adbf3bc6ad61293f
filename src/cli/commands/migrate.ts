// `scope-auth migrate`: bring the database schema to this version (the server also does this
// when it starts). The only command besides `serve` that changes the schema.
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { createDatabase, migrateToLatest, migrationStatus } from '../../store/database.js';
import { CommandError, describeDatabase, outputFor, reason, type CliIo } from '../context.js';
import { example, jsonOption } from '../options.js';

export function registerMigrate(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('Apply pending database migrations (creating the SQLite file if needed); safe to run again')
    .addOption(jsonOption('print { "applied": [...], "database": "..." }'))
    .addHelpText(
      'after',
      example(
        ['scope-auth migrate', 'SCOPE_AUTH_DATABASE_URL=postgres://scope_auth@db.internal:5432/scope_auth scope-auth migrate'],
        'Other commands refuse to work on a database whose schema is not this version\'s; the server migrates when it starts.',
      ),
    )
    .action(async (options: { json?: boolean }) => {
      const out = outputFor(io);
      const config = loadConfig(io.env);
      const where = describeDatabase(config.databaseUrl);
      let handle;
      try {
        handle = await createDatabase(config.databaseUrl, { pool: config.database });
      } catch (error) {
        throw new CommandError(`cannot open the database ${where}: ${reason(error)}`);
      }
      let applied: string[];
      try {
        const status = await migrationStatus(handle.db).catch((error: unknown) => {
          throw new CommandError(`cannot reach the database ${where}: ${reason(error)}`);
        });
        if (status.unknown.length > 0) {
          throw new CommandError(`the database ${where} was migrated by a newer version of scope-auth (${status.unknown.join(', ')}); use that version`);
        }
        await migrateToLatest(handle.db);
        applied = status.pending;
      } finally {
        await handle.close();
      }
      if (options.json) return out.json({ database: where, applied });
      out.line(applied.length === 0 ? `The database ${where} is up to date.` : `Migrated ${where}: applied ${applied.join(', ')}.`);
    });
}
