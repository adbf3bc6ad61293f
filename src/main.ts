// The only file that touches the process: environment, stdout, signals, exit code.
import { ConfigError, loadConfig } from './config.js';
import { CatalogError } from './domain/scopes.js';
import { KekError } from './domain/kek.js';
import { createLogger } from './logger.js';
import type { CreatedOrg } from './domain/orgs.js';
import { startServer } from './server.js';

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

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`scope-auth: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let server;
  try {
    server = await startServer(config, { logger });
  } catch (error) {
    if (error instanceof CatalogError || error instanceof KekError) {
      process.stderr.write(`scope-auth: ${error.message}\n`);
    } else {
      process.stderr.write(`scope-auth: cannot start: ${(error as Error).message}\n`);
    }
    process.exit(1);
  }
  if (server.bootstrap) process.stdout.write(bootstrapBlock(server.bootstrap));

  const running = server;
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'draining');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

await main(process.env);
