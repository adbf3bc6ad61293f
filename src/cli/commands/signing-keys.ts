// `scope-auth signing-keys list | rotate`: the keys that sign tokens (their public halves
// are the JWKS). Running servers on the same database re-read them every few seconds.
import { Option, type Command } from 'commander';
import type { SigningKeyInfo } from '../../domain/keyring.js';
import { outputFor, withServices, type CliIo } from '../context.js';
import { signingKeyJson } from '../json.js';
import { stateColour, type Output } from '../output.js';
import { example, jsonOption } from '../options.js';

function when(out: Output, ms: number | null, none: string): string {
  return ms === null ? none : `${new Date(ms).toISOString()} (${out.ago(ms)})`;
}

export function registerSigningKeys(program: Command, io: CliIo): void {
  const signingKeys = program
    .command('signing-keys')
    .description('Signing keys: the asymmetric keys that sign tokens; their public halves are the JWKS')
    .addHelpText('after', '\nThese commands need the key-encryption key: SCOPE_AUTH_KEK, or keys/kek under SCOPE_AUTH_KEYS_DIR.');

  signingKeys
    .command('list')
    .description('List the signing keys: which one signs, which are waiting to, which are retired but still published')
    .addOption(jsonOption('print { "data": [...] } with times in ISO 8601'))
    .addHelpText('after', example('scope-auth signing-keys list'))
    .action(async (options: { json?: boolean }) => {
      const out = outputFor(io);
      const keys = await withServices(io, async (deps) => deps.keyring.list());
      if (options.json) return out.json({ data: keys.map(signingKeyJson) });
      out.table(
        ['KID', 'ALG', 'GEN', 'STATE', 'CREATED', 'SIGNS FROM', 'RETIRES', 'LEAVES JWKS'],
        [...keys].reverse().map((key: SigningKeyInfo) => [
          key.kid,
          key.alg,
          String(key.generation),
          out.paint(stateColour(key.state), key.state),
          out.ago(key.created_at),
          out.ago(key.activates_at),
          out.ago(key.retires_at, '-'),
          out.ago(key.unpublishes_at, '-'),
        ]),
      );
    });

  signingKeys
    .command('rotate')
    .description('Create the next signing key; by default it signs after a delay that lets JWKS caches pick it up')
    .addOption(new Option('--now', 'sign with the new key at once (when the current key may be compromised)'))
    .addOption(jsonOption('print the new key as in signing-keys list'))
    .addHelpText(
      'after',
      example(
        ['scope-auth signing-keys rotate', 'scope-auth signing-keys rotate --now'],
        'The new key is published in the JWKS at once. Without --now it starts signing only after the',
        "JWKS's max-age (300 s), so downstream verifiers holding a cached JWKS have fetched the new key",
        'before they meet a token it signed. With --now it signs at once: verifiers that refetch the JWKS',
        "on an unknown kid (jose's createRemoteJWKSet, the scope-auth verifier) cope; others may reject its",
        'tokens until their cache expires.',
        'Either way the previous key stops signing when the new one starts, and stays in the JWKS until',
        'every token it signed has expired. Servers on the same database notice within 5 seconds.',
        'Servers also rotate on their own every SCOPE_AUTH_SIGNING_KEY_ROTATION_DAYS (30) days.',
      ),
    )
    .action(async (options: { now?: boolean; json?: boolean }) => {
      const out = outputFor(io);
      const { created, signing, refreshSeconds } = await withServices(io, async (deps) => {
        const signingKid = deps.keyring.list().find((key) => key.state === 'active')?.kid;
        const created = await deps.keyring.rotate({ immediate: options.now === true });
        const signing = deps.keyring.list().find((key) => key.kid === signingKid);
        return { created, signing, refreshSeconds: deps.config.keyringRefreshSeconds };
      });
      if (options.json) return out.json(signingKeyJson(created));
      out.line(`Created signing key ${out.paint('bold', created.kid)} (${created.alg}, generation ${created.generation}); it is in the JWKS now.`);
      out.line(
        options.now
          ? `It signs from now on: servers on this database switch to it within ${refreshSeconds} seconds.`
          : `It signs from ${when(out, created.activates_at, '')}; servers on this database switch to it then.`,
      );
      if (signing) {
        out.line(
          `The key signing until now, ${signing.kid}, stops ${options.now ? 'now' : 'then'}; it stays in the JWKS until ${when(out, signing.unpublishes_at, 'further notice')}, when every token it signed has expired.`,
        );
      }
    });
}
