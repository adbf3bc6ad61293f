// The `scope-auth` command line: run(argv, io) → exit code, with every process value
// injected so tests can call it in-process; main(process) wires the real ones (the bin
// shim and `npm start` call it). Output rules: results on stdout (--json: the HTTP API's
// objects), one line on stderr for an error, exit 2 when the command line is wrong and 1
// when the command could not be carried out.
import { existsSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { closeMatches } from '../domain/grants.js';
import { loadCatalog } from '../domain/scopes.js';
import { HttpError, InvalidRequestError, LastOwnerError, LastRootAdminError } from '../errors.js';
import { registerApps } from './commands/apps.js';
import { registerAudit } from './commands/audit.js';
import { registerInit } from './commands/init.js';
import { registerKeys } from './commands/keys.js';
import { registerMigrate } from './commands/migrate.js';
import { registerOrgs } from './commands/orgs.js';
import { registerScopes } from './commands/scopes.js';
import { registerServe } from './commands/serve.js';
import { registerSigningKeys } from './commands/signing-keys.js';
import { packageVersion } from '../version.js';
import { registerUsers } from './commands/users.js';
import { registerWebhooks } from './commands/webhooks.js';
import { CommandError, reason, UsageError, type CliIo } from './context.js';

export type { CliIo } from './context.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The API's field names in domain messages, as the CLI's flags. */
const FLAGS: Record<string, string> = {
  name: '--name',
  description: '--description',
  audience: '--audience',
  token_ttl_seconds: '--ttl',
  scopes: '--scope',
  allowed_scopes: '--allow-scope',
  allowed_ips: '--allow-ip',
  expires_at: '--expires-at/--expires-in-days',
  grace_seconds: '--grace',
  reason: '--reason',
  unused_days: '--unused-days',
  status: '--status',
  email: '--email',
  role: '--role',
  limit: '--limit',
  cursor: '--cursor',
  url: '--url',
  events: '--event',
};

function invalidRequestMessage(error: InvalidRequestError, io: CliIo): string {
  const unknown = error.extra?.unknown_scopes;
  if (Array.isArray(unknown) && unknown.every((s): s is string => typeof s === 'string')) {
    let catalog;
    try {
      catalog = loadCatalog(loadConfig(io.env).catalogPath);
    } catch {
      catalog = null;
    }
    const described = unknown.map((scope) => {
      const close = catalog ? closeMatches(catalog, scope) : [];
      return close.length > 0 ? `"${scope}" (did you mean ${close.map((c) => `"${c}"`).join(' or ')}?)` : `"${scope}"`;
    });
    return `unknown scope${unknown.length > 1 ? 's' : ''} ${described.join(', ')}; "scope-auth scopes" lists the catalogue`;
  }
  const match = /^([a-z_]+): (.*)$/s.exec(error.message);
  const flag = match && FLAGS[match[1]!];
  return flag ? `${flag}: ${match[2]}` : error.message;
}

/** One line on stderr, and the exit code. */
function report(io: CliIo, error: unknown): number {
  let message: string;
  let code = EXIT_FAILED;
  if (error instanceof UsageError) {
    message = error.message;
    code = EXIT_USAGE;
  } else if (error instanceof InvalidRequestError) {
    // A value the domain refuses (an unknown scope, an expiry in the past) is a wrong command line too.
    message = invalidRequestMessage(error, io);
    code = EXIT_USAGE;
  } else if (error instanceof LastRootAdminError) {
    // The API refuses this for good; the operator may, knowing the root org then has no admin key.
    message = `${error.message}, or run the command again with --force to do it anyway (the root organization is then left without an admin key until you create one)`;
  } else if (error instanceof LastOwnerError) {
    message = `${error.message}, or run the command again with --force to do it anyway (nobody can then manage the organization's people until you invite an owner)`;
  } else if (error instanceof HttpError || error instanceof CommandError || error instanceof ConfigError) {
    message = error.message;
  } else {
    message = reason(error);
  }
  io.stderr.write(`scope-auth: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  return code;
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('scope-auth')
    .description('Operate a scope-auth server: orgs, apps, API keys, people, signing keys and the audit log.\nWorks directly on SCOPE_AUTH_DATABASE_URL; changes are recorded in the audit log as actor "cli".')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(`scope-auth: ${text.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`),
    })
    .addHelpText(
      'after',
      [
        '',
        'Configuration comes from the same SCOPE_AUTH_* environment variables as the server (see .env.example).',
        'Every command takes --json and --help. Exit codes: 0 done, 1 could not be done, 2 wrong command line.',
        '',
        'Example:',
        '  $ scope-auth orgs create "Acme Corp"',
        '  $ scope-auth apps create --org org_01J... --name ci --scope tools:deploy',
        '  $ scope-auth keys create --org org_01J... --app app_01J... --name github-actions',
      ].join('\n'),
    );
  registerServe(program, io);
  registerInit(program, io);
  registerMigrate(program, io);
  registerOrgs(program, io);
  registerApps(program, io);
  registerKeys(program, io);
  registerUsers(program, io);
  registerWebhooks(program, io);
  registerSigningKeys(program, io);
  registerAudit(program, io);
  registerScopes(program, io);
  return program;
}

/** Runs one command line and resolves with its exit code; never throws, never exits. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already written its message (or the help).
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT_OK : EXIT_USAGE;
    }
    return report(io, error);
  }
}

/** The process entry: the bin shim runs `main(process)`, `npm start` runs `main(process, ['serve'])`. */
export async function main(proc: NodeJS.Process, argv: readonly string[] = proc.argv.slice(2)): Promise<void> {
  // `scope-auth keys list | head -1` closes the pipe early; that is not an error.
  proc.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') proc.exit(proc.exitCode ?? 0);
    else throw error;
  });
  proc.exitCode = await run(argv, {
    stdout: proc.stdout,
    stderr: proc.stderr,
    env: proc.env,
    isTTY: proc.stdout.isTTY === true,
    untilStopped: () =>
      new Promise((resolve) => {
        proc.once('SIGTERM', () => resolve('SIGTERM'));
        proc.once('SIGINT', () => resolve('SIGINT'));
      }),
  });
}

// Run as a script (`node --import tsx src/cli/index.ts …`, as the tests do): the same as the bin.
const entry = process.argv[1];
if (entry !== undefined && existsSync(entry) && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  await main(process);
}
