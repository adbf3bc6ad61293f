// The root organization's admin credentials from the first start, written where no log
// collector reads them: `<SCOPE_AUTH_KEYS_DIR>/root-credentials.env`, mode 0600, in the
// environment-variable form the SDK and `node --env-file` read. `serve` writes it when
// stdout is not a terminal (stdout is where the JSON logs go), `init` always.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FirstStart } from '../domain/first-owner.js';
import { CommandError, reason } from './context.js';

export const ROOT_CREDENTIALS_FILE = 'root-credentials.env';

export function rootCredentialsPath(keysDir: string): string {
  return join(keysDir, ROOT_CREDENTIALS_FILE);
}

/**
 * The four variables, one a line (the API URL is the issuer, where clients exchange keys),
 * and the one-time link that creates the root org's first owner.
 */
export function rootCredentialsLines(created: FirstStart, apiUrl: string): string[] {
  return [
    `SCOPE_ORG_ID=${created.org.id}`,
    `SCOPE_API_KEY=${created.key.id}`,
    `SCOPE_API_SECRET=${created.secret}`,
    `SCOPE_AUTH_API_URL=${apiUrl}`,
    `SCOPE_AUTH_OWNER_INVITATION_URL=${created.ownerInvitationUrl}`,
  ];
}

/**
 * Writes the file whole under a temporary name created 0600, then renames it into place, so
 * no reader finds it half-written or, for a moment, readable by others (a file left by an
 * earlier bootstrap of another database is replaced). A failure is a CommandError saying how
 * to get an admin key after all: the org is committed by then and is not bootstrapped again.
 */
export function writeRootCredentials(keysDir: string, created: FirstStart, apiUrl: string, now: Date): string {
  const path = rootCredentialsPath(keysDir);
  const temporary = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const text = [
    `# scope-auth: the root organization's admin key, created ${now.toISOString()}.`,
    '# Move these to your secret store, then delete this file. The secret cannot be read again.',
    '# SCOPE_AUTH_OWNER_INVITATION_URL creates the first owner (a person) once; it works for SCOPE_AUTH_INVITATION_TTL.',
    ...rootCredentialsLines(created, apiUrl),
    '',
  ].join('\n');
  try {
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Nothing was created there.
    }
    throw new CommandError(
      `cannot write the first-start credentials to ${path}: ${reason(error)}. The root organization ${created.org.id} was created; ` +
        `make a new admin key for it with "scope-auth keys create --org ${created.org.id} --app ${created.adminApp.id} --name admin"`,
      { cause: error },
    );
  }
  return path;
}
