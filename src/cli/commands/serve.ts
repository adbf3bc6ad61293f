// `scope-auth serve` (and `npm start`, which runs exactly this): start the server, print the
// first-start block, and drain when the process is asked to stop.
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../config.js';
import { KekError } from '../../domain/kek.js';
import type { AppDeps } from '../../app.js';
import { toAppView } from '../../domain/apps.js';
import { toKeyView } from '../../domain/key-status.js';
import { toOrgView, type CreatedOrg, type CreatedOrgView } from '../../domain/orgs.js';
import { CatalogError } from '../../domain/scopes.js';
import { CommandError, type CliIo } from '../context.js';
import { createdOrgJson } from '../json.js';
import { example, jsonOption } from '../options.js';

export function bootstrapBlock(created: CreatedOrg): string {
  const rule = '='.repeat(72);
  return [
    rule,
    'scope-auth: first start. The root organization and its admin key were created.',
    'Copy the secret now: it is shown only this once and cannot be read again.',
    '',
    `  SCOPE_ORG_ID=${created.org.id}`,
    `  SCOPE_API_KEY=${created.key.id}`,
    `  SCOPE_API_SECRET=${created.secret}`,
    rule,
    '',
  ].join('\n');
}

function bootstrapView(created: CreatedOrg, deps: AppDeps): CreatedOrgView {
  return {
    org: toOrgView(deps, created.org),
    adminApp: toAppView(deps, created.adminApp),
    key: toKeyView(created.key, deps.clock.now()),
    secret: created.secret,
  };
}

/** Resolves when the server has drained after a stop signal; throws when it cannot start. */
export async function serve(io: CliIo, options: { json: boolean }): Promise<void> {
  const config = loadConfig(io.env);
  // Loaded here, not at the top: the other commands start faster without express & co.
  const [{ createLogger }, { startServer }] = await Promise.all([import('../../logger.js'), import('../../server.js')]);
  const logger = createLogger(config.logLevel);
  const printBootstrap = (created: CreatedOrg, deps: AppDeps) => {
    io.stdout.write(options.json ? JSON.stringify(createdOrgJson(bootstrapView(created, deps))) + '\n' : bootstrapBlock(created));
  };
  let server;
  try {
    server = await startServer(config, { logger, onBootstrap: printBootstrap, ...(io.clock ? { clock: io.clock } : {}) });
  } catch (error) {
    // Configuration the operator must fix is reported as is; anything else as a failed start.
    if (error instanceof CatalogError || error instanceof KekError || error instanceof ConfigError) throw error;
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
    .addOption(jsonOption('print the first-start credentials as one JSON line instead of the block'))
    .addHelpText(
      'after',
      example(
        'SCOPE_AUTH_ISSUER=https://auth.example.com SCOPE_AUTH_HOST=0.0.0.0 scope-auth serve',
        'On an empty database it creates the root organization and prints its admin key once.',
        'SIGTERM or SIGINT drains in-flight requests, writes last-used figures and exits 0.',
      ),
    )
    .action(async (options: { json?: boolean }) => {
      await serve(io, { json: options.json === true });
    });
}
