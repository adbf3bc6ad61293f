// `scope-auth serve` (and `npm start`, which runs exactly this): start the server, hand over
// the first-start credentials, and drain when the process is asked to stop.
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../config.js';
import { KekError } from '../../domain/kek.js';
import type { AppDeps } from '../../app.js';
import { toAppView } from '../../domain/apps.js';
import { namesAsIs } from '../../domain/actor-names.js';
import { toKeyView } from '../../domain/key-status.js';
import { toApiKeyView } from '../../store/api-keys.js';
import { toOrgView, type CreatedOrg, type CreatedOrgView } from '../../domain/orgs.js';
import type { FirstStart } from '../../domain/first-owner.js';
import { CatalogError } from '../../domain/scopes.js';
import { CommandError, type CliIo } from '../context.js';
import { createdOrgJson } from '../json.js';
import { example, jsonOption } from '../options.js';
import { ROOT_CREDENTIALS_FILE, rootCredentialsLines, writeRootCredentials } from '../root-credentials.js';

export function bootstrapBlock(created: FirstStart, apiUrl: string): string {
  const rule = '='.repeat(72);
  return [
    rule,
    'scope-auth: first start. The root organization and its admin key were created.',
    'Copy the secret now: it is shown only this once and cannot be read again.',
    'Open SCOPE_AUTH_OWNER_INVITATION_URL to create the first owner (a person); it works once.',
    '',
    ...rootCredentialsLines(created, apiUrl).map((line) => `  ${line}`),
    rule,
    '',
  ].join('\n');
}

export function bootstrapView(created: CreatedOrg, deps: AppDeps): CreatedOrgView {
  return {
    org: toOrgView(deps, created.org),
    adminApp: toAppView(deps, created.adminApp, namesAsIs),
    key: toKeyView(toApiKeyView(created.key), deps.clock.now(), namesAsIs),
    secret: created.secret,
    // The first start's owner link is FirstStart's, written beside the key.
    ownerInvitationUrl: null,
  };
}

/** `--json`: `{ org, admin_app, key, secret }` as POST /v1/orgs answers, and `owner_invitation_url`. */
export function firstStartJson(created: FirstStart, deps: AppDeps) {
  return { ...createdOrgJson(bootstrapView(created, deps)), owner_invitation_url: created.ownerInvitationUrl };
}

/** Resolves when the server has drained after a stop signal; throws when it cannot start. */
export async function serve(io: CliIo, options: { json: boolean }): Promise<void> {
  const config = loadConfig(io.env);
  // Loaded here, not at the top: the other commands start faster without express & co.
  const [{ createLogger }, { startServer }] = await Promise.all([import('../../logger.js'), import('../../server.js')]);
  const logger = createLogger(config.logLevel);
  // Printed only to a person at a terminal. Anywhere else stdout is the log stream, and every
  // log collector would receive a key that never expires and can create organizations.
  const handOver = (created: FirstStart, deps: AppDeps) => {
    if (io.isTTY) {
      io.stdout.write(options.json ? JSON.stringify(firstStartJson(created, deps)) + '\n' : bootstrapBlock(created, config.issuer));
      return;
    }
    const file = writeRootCredentials(config.keysDir, created, config.issuer, new Date(deps.clock.now()));
    logger.warn(
      { file, org_id: created.org.id, key_id: created.key.id },
      "first start: the root organization's admin key is in this file (mode 0600); move it to your secret store and delete the file",
    );
  };
  let server;
  try {
    server = await startServer(config, { logger, onBootstrap: handOver, ...(io.clock ? { clock: io.clock } : {}) });
  } catch (error) {
    // Configuration the operator must fix is reported as is; anything else as a failed start.
    if (error instanceof CatalogError || error instanceof KekError || error instanceof ConfigError || error instanceof CommandError) throw error;
    throw new CommandError(`cannot start: ${(error as Error).message}`, { cause: error });
  }
  const signal = await (io.untilStopped ?? (() => new Promise<string>(() => {})))();
  logger.info({ signal }, 'draining');
  await server.close();
}

export function registerServe(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('Start the server: migrate the database, load the signing keys and listen (what `npm start` runs)')
    .addOption(jsonOption('on a terminal, print the first-start credentials as one JSON line instead of the block'))
    .addHelpText(
      'after',
      example(
        'SCOPE_AUTH_ISSUER=https://auth.example.com SCOPE_AUTH_HOST=0.0.0.0 scope-auth serve',
        'On an empty database it creates the root organization and its admin key: printed once on a terminal,',
        `otherwise written to $SCOPE_AUTH_KEYS_DIR/${ROOT_CREDENTIALS_FILE} (mode 0600), never to the logs.`,
        'SIGTERM or SIGINT drains in-flight requests, writes last-used figures and exits 0.',
      ),
    )
    .action(async (options: { json?: boolean }) => {
      await serve(io, { json: options.json === true });
    });
}
