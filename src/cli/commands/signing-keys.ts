// `scope-auth signing-keys list | rotate`: the keys that sign tokens (their public halves
// are the JWKS). Servers on the same PostgreSQL database hear of a rotation at once; every
// server also re-reads the keys every few seconds.
import { Option, type Command } from 'commander';
import { RotationConflictError, type Rotation, type SigningKeyInfo } from '../../domain/keyring.js';
import { neverSigns } from '../../domain/keyring-view.js';
import { dialectOf } from '../../store/database.js';
import { CommandError, outputFor, UsageError, withServices, type CliIo } from '../context.js';
import { rotationJson, signingKeyJson } from '../json.js';
import { stateColour, type Output } from '../output.js';
import { example, jsonOption } from '../options.js';

function when(out: Output, ms: number | null, none: string): string {
  return ms === null ? none : `${new Date(ms).toISOString()} (${out.ago(ms)})`;
}

function signsFrom(out: Output, key: SigningKeyInfo): string {
  return neverSigns(key) ? 'never' : out.ago(key.activates_at, 'next rotation');
}

interface RotateOptions {
  now?: boolean;
  replaceStandby?: boolean;
  json?: boolean;
}

/** What `rotate` prints: what signs from when, what stops, the new standby, and who learns of it how soon. */
function describeRotation(out: Output, rotation: Rotation, facts: { publishSeconds: number; refreshSeconds: number; notifies: boolean; rotatedAt: number }): void {
  const { activated, previous, standby } = rotation;
  const key = `${out.paint('bold', activated.kid)} (${activated.alg}, generation ${activated.generation})`;
  const startsNow = activated.activates_at !== null && activated.activates_at <= facts.rotatedAt;
  const publishedMs = facts.rotatedAt - activated.created_at;
  if (rotation.discardedStandby !== null) {
    out.line(`Discarded the standby key ${rotation.discardedStandby}: it never signed, and it has left the JWKS.`);
    out.line(`Created signing key ${key}; it is in the JWKS now and signs from now on.`);
  } else if (startsNow) {
    out.line(`Signing key ${key} signs from now on; it has been in the JWKS since ${when(out, activated.created_at, '')}.`);
  } else {
    out.line(
      `Signing key ${key} signs from ${when(out, activated.activates_at, '')}, once it has been in the JWKS for its max-age (${facts.publishSeconds} s); servers on this database switch to it then.`,
    );
  }
  if (previous) {
    out.line(
      `The key signing until now, ${previous.kid}, stops ${startsNow ? 'now' : 'then'}; it stays in the JWKS until ${when(out, previous.unpublishes_at, 'further notice')}, when every token it signed has expired.`,
    );
  }
  out.line(`New standby key ${standby.kid} (generation ${standby.generation}) is in the JWKS now; the next rotation makes it sign.`);
  out.line(
    facts.notifies
      ? `Servers on this database learn of it at once (PostgreSQL LISTEN/NOTIFY), at the latest within ${facts.refreshSeconds} seconds.`
      : `Servers on this database learn of it within ${facts.refreshSeconds} seconds.`,
  );
  if (rotation.discardedStandby !== null) {
    out.line(
      `Downstream verifiers have never seen ${activated.kid} and must refetch the JWKS to accept its tokens: the scope-auth SDK verifier and jose's createRemoteJWKSet refetch when they meet an unknown kid (at most once per cooldown, 30 s by default); verifiers that refetch only when their cached copy expires reject its tokens for up to ${facts.publishSeconds} s.`,
    );
  } else if (startsNow && publishedMs < facts.publishSeconds * 1000) {
    out.line(
      `It has been published for less than the JWKS max-age (${facts.publishSeconds} s): verifiers holding an older cached JWKS accept its tokens once they refetch (the scope-auth SDK verifier and jose's createRemoteJWKSet do when they meet an unknown kid).`,
    );
  }
}

export function registerSigningKeys(program: Command, io: CliIo): void {
  const signingKeys = program
    .command('signing-keys')
    .description('Signing keys: the asymmetric keys that sign tokens; their public halves are the JWKS')
    .addHelpText('after', '\nThese commands need the key-encryption key: SCOPE_AUTH_KEK, or keys/kek under SCOPE_AUTH_KEYS_DIR.');

  signingKeys
    .command('list')
    .description('List the signing keys: which one signs, the standby the next rotation activates, which are retired but still published')
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
          signsFrom(out, key),
          out.ago(key.retires_at, '-'),
          out.ago(key.unpublishes_at, '-'),
        ]),
      );
    });

  signingKeys
    .command('rotate')
    .description('Make the standby key sign and generate the next standby; by default only once every JWKS cache has had the standby')
    .addOption(new Option('--now', 'make the standby sign at once (when the current key may be compromised)'))
    .addOption(new Option('--replace-standby', 'with --now: discard the standby too and sign with a fresh key at once (downstream caches must refetch the JWKS)'))
    .addOption(jsonOption('print { activated, standby, previous, discarded_standby }, each key as in signing-keys list'))
    .addHelpText(
      'after',
      example(
        ['scope-auth signing-keys rotate', 'scope-auth signing-keys rotate --now', 'scope-auth signing-keys rotate --now --replace-standby'],
        'The JWKS always holds the signing key and a standby: the key the next rotation makes sign,',
        "published since the previous rotation. A rotation makes it sign once it has been in the JWKS",
        "for the JWKS's max-age (300 s), at once if it has been there that long, so downstream verifiers",
        'holding a cached JWKS already know it; --now makes it sign at once in any case.',
        'It generates the next standby, and the previous key stops signing when the standby starts and',
        'stays in the JWKS until every token it signed has expired.',
        'With --now --replace-standby (the standby may be compromised too) the standby is deleted, and a',
        'fresh key signs at once: downstream verifiers must refetch the JWKS to accept its tokens (the',
        "scope-auth verifier and jose's createRemoteJWKSet do on an unknown kid, within their cooldown).",
        'Servers on one PostgreSQL database learn of a rotation at once; every server also re-reads the',
        'keys every 5 seconds. Servers also rotate on their own every SCOPE_AUTH_SIGNING_KEY_ROTATION_DAYS (30) days.',
      ),
    )
    .action(async (options: RotateOptions) => {
      if (options.replaceStandby && !options.now) {
        throw new UsageError('--replace-standby needs --now: it makes a key nobody has fetched sign at once');
      }
      const out = outputFor(io);
      const { rotation, facts } = await withServices(io, async (deps) => {
        let rotation: Rotation;
        try {
          rotation = await deps.keyring.rotate({ immediate: options.now === true, replaceStandby: options.replaceStandby === true });
        } catch (error) {
          if (error instanceof RotationConflictError) throw new CommandError(`${error.message} — see "scope-auth signing-keys list"`);
          throw error;
        }
        const facts = {
          publishSeconds: deps.config.jwksMaxAgeSeconds,
          refreshSeconds: deps.config.keyringRefreshSeconds,
          notifies: dialectOf(deps.db) === 'postgres',
          // Read after the rotation, so a key activated "now" counts as signing now.
          rotatedAt: deps.clock.now(),
        };
        return { rotation, facts };
      });
      if (options.json) return out.json(rotationJson(rotation));
      describeRotation(out, rotation, facts);
    });
}
