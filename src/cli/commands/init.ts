// `scope-auth init`: the first start without the server, for deployments that provision
// before they serve (an init container, a configuration-management run): migrate, create the
// key-encryption key and the signing keys, create the root organization and its admin key,
// hand the credentials over and exit.
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import type { FirstStart } from '../../domain/first-owner.js';
import type { AppDeps } from '../../app.js';
import { CommandError, describeDatabase, outputFor, reason, type CliIo } from '../context.js';
import { example, jsonOption } from '../options.js';
import { ROOT_CREDENTIALS_FILE, writeRootCredentials } from '../root-credentials.js';
import { firstStartJson } from './serve.js';

export function registerInit(program: Command, io: CliIo): void {
  program
    .command('init')
    .description(`Initialize an empty database and exit: migrate, create the keys and the root organization, and write its admin key to $SCOPE_AUTH_KEYS_DIR/${ROOT_CREDENTIALS_FILE}`)
    .addOption(jsonOption('print the credentials ({ org, admin_app, key, secret }, as POST /v1/orgs answers, and owner_invitation_url) instead of writing the file'))
    .addHelpText(
      'after',
      example(
        ['scope-auth init', 'scope-auth init --json | jq -r .secret | vault kv put secret/scope-auth/root secret=-'],
        `The file is mode 0600 and holds SCOPE_ORG_ID, SCOPE_API_KEY, SCOPE_API_SECRET and SCOPE_AUTH_API_URL (the issuer);`,
        'move them to your secret store and delete it. On a database that already has its root organization nothing is',
        'created and init exits 1; the server needs no init (its first start does the same).',
      ),
    )
    .action(async (options: { json?: boolean }) => {
      const out = outputFor(io);
      const config = loadConfig(io.env);
      const where = describeDatabase(config.databaseUrl);
      // Loaded here, not at the top: the other commands start faster without the server's modules.
      const [{ createLogger }, { initialize }, { pino }] = await Promise.all([import('../../logger.js'), import('../../server.js'), import('pino')]);
      // Warnings to stderr; stdout carries the result alone.
      const logger = createLogger('warn', pino.destination({ fd: 2, sync: true }));
      let handedOver: (() => void) | undefined;
      const handOver = (created: FirstStart, deps: AppDeps) => {
        if (options.json) {
          const json = firstStartJson(created, deps);
          handedOver = () => out.json(json);
          return;
        }
        const file = writeRootCredentials(config.keysDir, created, config.issuer, new Date(deps.clock.now()));
        handedOver = () => {
          out.line(`Initialized ${where}: created the root organization ${created.org.id} and its admin key ${created.key.id}.`);
          out.line(`The key is in ${file} (mode 0600): SCOPE_ORG_ID, SCOPE_API_KEY, SCOPE_API_SECRET, SCOPE_AUTH_API_URL,`);
          out.line('and SCOPE_AUTH_OWNER_INVITATION_URL, a one-time link that creates the first owner (a person).');
          out.line(out.paint('yellow', 'Move them to your secret store and delete the file: the secret cannot be read again.'));
        };
      };
      let created: FirstStart | null;
      try {
        created = await initialize(config, { logger, onBootstrap: handOver, ...(io.clock ? { clock: io.clock } : {}) });
      } catch (error) {
        if (error instanceof CommandError) throw error;
        throw new CommandError(`cannot initialize ${where}: ${reason(error)}`, { cause: error });
      }
      if (created === null) {
        throw new CommandError(
          `${where} is already initialized: it has its root organization, so no credentials were created ("scope-auth orgs list" shows it; "scope-auth keys create" makes another admin key)`,
        );
      }
      handedOver?.();
    });
}
