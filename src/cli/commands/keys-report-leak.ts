// `scope-auth keys report-leak <secret>`: what POST /v1/leaks does, run by the operator on the
// server's database: the key whose secret it is gets revoked at once (reason `leaked`, actor
// `system`), and, the operator being trusted, the command names the key.
import { Option, type Command } from 'commander';
import { reportLeaks, tokenHash, URL_MAX } from '../../domain/leaks.js';
import { createSecretDigest } from '../../domain/secret-digest.js';
import { CommandError, existingKek, outputFor, withSession, type CliIo } from '../context.js';
import { example, jsonOption } from '../options.js';

export function registerReportLeak(keys: Command, io: CliIo): void {
  keys
    .command('report-leak')
    .description('Revoke the key a leaked secret belongs to, whichever org it is in, as a leak report to POST /v1/leaks does')
    .argument('<secret>', 'the leaked secret (secret_…)')
    .addOption(new Option('--url <url>', `where it was found, for the audit log (up to ${URL_MAX} characters kept)`))
    .addOption(new Option('--source <text>', 'what kind of place: a commit, a CI log, a chat…'))
    .addOption(jsonOption('print { "label", "token_hash", "key" } (key: { id, org_id, app_id, name, revoked_now }, or null)'))
    .addHelpText(
      'after',
      example(
        'scope-auth keys report-leak secret_… --url https://github.com/acme/app/blob/0a1b2c/.env --source commit',
        'true_positive: the secret is a key\'s, which is revoked now (or was already); false_positive: no key has it.',
        'Keys created before leak reports existed have no lookup digest and cannot be found: revoke them with keys revoke.',
        'Needs the server\'s key-encryption key (SCOPE_AUTH_KEK, or keys/kek in SCOPE_AUTH_KEYS_DIR).',
      ),
    )
    .action(async (secret: string, options: { url?: string; source?: string; json?: boolean }) => {
      const out = outputFor(io);
      const finding = await withSession(io, async (session) => {
        const kek = existingKek(session.config);
        if (kek === null) {
          throw new CommandError(
            'no key-encryption key: SCOPE_AUTH_KEK is not set and keys/kek does not exist; a key is found by a digest made with it: run with the server\'s SCOPE_AUTH_KEK or SCOPE_AUTH_KEYS_DIR (or from its directory)',
          );
        }
        const { deps } = session;
        const outcome = await reportLeaks(
          { db: deps.db, clock: deps.clock, secretDigest: createSecretDigest(kek), verify: (hash, candidate) => deps.hasher.verify(hash, candidate) },
          [{ token: secret.trim(), url: options.url ?? null, source: options.source ?? null }],
          { ip: null, via: 'cli' },
        );
        // Only the argon2 queue of a server is ever busy.
        if (!outcome.ok) throw new CommandError('the secret could not be verified; try again');
        return outcome.findings[0]!;
      });
      const { key, label } = finding;
      if (options.json) {
        return out.json({
          label,
          token_hash: tokenHash(secret.trim()),
          key: key === null ? null : { id: key.id, org_id: key.orgId, app_id: key.appId, name: key.name, revoked_now: key.revokedNow },
        });
      }
      if (key === null) {
        out.line(`${out.paint('bold', label)}: no key has this secret (or its key was created before leak reports existed, or was deleted).`);
        return;
      }
      const which = `key ${out.paint('bold', key.id)} "${key.name}" (org ${key.orgId}, app ${key.appId})`;
      out.line(key.revokedNow ? `${out.paint('bold', label)}: revoked ${which}, reason leaked. Its exchanges fail from now on.` : `${out.paint('bold', label)}: ${which} was already revoked.`);
    });
}
