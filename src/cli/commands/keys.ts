// `scope-auth keys create | list | revoke | roll | delete | stale | report-leak`: API keys are
// immutable; they are issued, revoked, rolled (replaced, with a grace period) or deleted.
import { Option, type Command } from 'commander';
import { createKey, deleteKey, listKeys, revokeKey, rollKey, ROLL_GRACE_MAX_SECONDS, type ListKeysInput } from '../../domain/keys.js';
import { KEY_STATUSES, type KeyStatus, type KeyView } from '../../domain/key-status.js';
import { renderKey, renderPage } from '../../http/render.js';
import { outputFor, withSession, type CliIo } from '../context.js';
import { registerReportLeak } from './keys-report-leak.js';
import { createdKeyJson } from '../json.js';
import { pageTable, secretBlock, stateColour, type Output } from '../output.js';
import {
  collectAddresses,
  collectScopes,
  duration,
  example,
  forceOption,
  idArgument,
  jsonOption,
  isoTime,
  pageOptions,
  wholeNumber,
  type PageOptions,
} from '../options.js';

const DAY_MS = 86_400_000;
const STALE_DAYS_DEFAULT = 90;

const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`;

const orgOption = () => new Option('--org <org_id>', 'the organization').argParser(idArgument('org')).makeOptionMandatory();

function expiryOptions(what: string): Option[] {
  return [
    new Option('--expires-at <time>', `when ${what} expires: an ISO 8601 date or time`).argParser(isoTime).conflicts('expiresInDays'),
    new Option('--expires-in-days <days>', `${what} expires this many days from now`).argParser(wholeNumber(1, 36_500)),
  ];
}

interface ExpiryOptions {
  readonly expiresAt?: number;
  readonly expiresInDays?: number;
}

/** undefined: the default (SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS, else never); the domain checks the rest. */
function requestedExpiry(options: ExpiryOptions, now: number): { expiresAt?: number } {
  if (options.expiresAt !== undefined) return { expiresAt: options.expiresAt };
  if (options.expiresInDays !== undefined) return { expiresAt: now + options.expiresInDays * DAY_MS };
  return {};
}

/** The key's own scopes and IP list, when it has them, as lines for people. */
function describePolicy(out: Output, key: KeyView): void {
  if (key.scopes !== null) out.line(`  ${out.paint('dim', 'scopes     ')}  ${key.scopes.join(' ')} (within its app's)`);
  if (key.allowed_ips !== null) out.line(`  ${out.paint('dim', 'allowed IPs')}  ${key.allowed_ips.join(' ')} (and its app's list)`);
}

function status(out: Output, key: KeyView): string {
  return out.paint(stateColour(key.status), key.status);
}

function expiry(out: Output, key: KeyView): string {
  return key.expires_at === null ? 'never' : out.ago(key.expires_at);
}

function keyTable(out: Output, page: { data: readonly KeyView[]; nextCursor: string | null }, empty: string, next: (cursor: string) => string) {
  pageTable(out, page, {
    headers: ['ID', 'APP', 'NAME', 'STATUS', 'SECRET', 'LAST USED', 'USES', 'EXPIRES', 'CREATED'],
    row: (key) => [
      key.id,
      key.app_id,
      key.name,
      status(out, key),
      `…${key.secret_hint}`,
      out.ago(key.last_used_at),
      String(key.use_count),
      expiry(out, key),
      out.ago(key.created_at),
    ],
    empty,
    next,
  });
}

export function registerKeys(program: Command, io: CliIo): void {
  const keys = program
    .command('keys')
    .description("API keys: the credentials clients exchange for tokens; a key has its app's scopes");

  const create = keys
    .command('create')
    .description('Issue a key for an app and print its secret, once')
    .addOption(orgOption())
    .addOption(new Option('--app <app_id>', 'the app the key belongs to (for good)').argParser(idArgument('app')).makeOptionMandatory())
    .addOption(new Option('--name <name>', 'what or who uses it, 1-100 characters').makeOptionMandatory());
  for (const option of expiryOptions('the key')) create.addOption(option);
  create
    .addOption(new Option('--scope <scope>', "a scope of the app's the key may carry (repeatable; default: all the app grants)").argParser(collectScopes))
    .addOption(new Option('--allow-ip <cidr>', "an address or CIDR range the key may exchange from, within the app's list (repeatable)").argParser(collectAddresses))
    .addOption(jsonOption('print { "key", "secret" }, as POST /v1/apps/{app_id}/keys answers'))
    .addHelpText(
      'after',
      example(
        [
          'scope-auth keys create --org org_01J... --app app_01J... --name github-actions --expires-in-days 90',
          'scope-auth keys create --org org_01J... --app app_01J... --name read-only --scope agents:view --allow-ip 203.0.113.10',
        ],
        'Without an expiry the key never expires, unless SCOPE_AUTH_KEY_MAX_LIFETIME_DAYS sets a maximum (and the default).',
        "A key's scopes and allowed IPs are fixed for its life (rolling keeps them); its tokens carry what both it and its app allow.",
      ),
    )
    .action(async (options: ExpiryOptions & { org: string; app: string; name: string; scope?: string[]; allowIp?: string[]; json?: boolean }) => {
      const out = outputFor(io);
      const created = await withSession(io, async (session) =>
        createKey(session.deps, await session.actorIn(options.org), {
          appId: options.app,
          name: options.name,
          ...requestedExpiry(options, session.deps.clock.now()),
          ...(options.scope === undefined ? {} : { scopes: options.scope }),
          ...(options.allowIp === undefined ? {} : { allowedIps: options.allowIp }),
        }),
      );
      if (options.json) return out.json(createdKeyJson(created));
      const { key } = created;
      const expires = key.expires_at === null ? 'It never expires.' : `It expires ${expiry(out, key)} (${new Date(key.expires_at).toISOString()}).`;
      out.line(`Created key ${out.paint('bold', key.id)} "${key.name}" for app ${key.app_id}. ${expires}`);
      describePolicy(out, key);
      secretBlock(out, { orgId: key.org_id, keyId: key.id, secret: created.secret });
    });

  const list = keys
    .command('list')
    .description("List an organization's keys, newest first: status, last use, expiry")
    .addOption(orgOption())
    .addOption(new Option('--app <app_id>', "only this app's keys").argParser(idArgument('app')))
    .addOption(new Option('--status <status>', 'only keys in this status').choices(KEY_STATUSES))
    .addOption(new Option('--unused-days <days>', 'only keys not used (or, never used, created) for this many days').argParser(wholeNumber(1, 36_500)))
    .addOption(jsonOption())
    .addHelpText('after', example(['scope-auth keys list --org org_01J...', 'scope-auth keys list --org org_01J... --app app_01J... --status active']));
  for (const option of pageOptions()) list.addOption(option);
  list.action(async (options: PageOptions & { org: string; app?: string; status?: KeyStatus; unusedDays?: number; json?: boolean }) => {
    const out = outputFor(io);
    const input: ListKeysInput = {
      limit: options.limit,
      cursor: options.cursor,
      ...(options.app === undefined ? {} : { appId: options.app }),
      ...(options.status === undefined ? {} : { status: options.status }),
      ...(options.unusedDays === undefined ? {} : { unusedDays: options.unusedDays }),
    };
    const page = await withSession(io, async (session) => listKeys(session.deps, await session.actorIn(options.org), input));
    if (options.json) return out.json(renderPage(page, renderKey));
    const filters = [
      options.app && `--app ${options.app}`,
      options.status && `--status ${options.status}`,
      options.unusedDays && `--unused-days ${options.unusedDays}`,
    ].filter(Boolean);
    keyTable(out, page, filters.length > 0 ? 'No keys match.' : `No keys in ${options.org}.`, (cursor) =>
      ['scope-auth keys list --org', options.org, ...filters, `--limit ${options.limit} --cursor ${cursor}`].join(' '),
    );
  });

  keys
    .command('revoke')
    .description('Revoke a key: its next exchange fails, on every server sharing the database; it stays listed as revoked')
    .argument('<key_id>', 'the key', idArgument('key'))
    .addOption(orgOption())
    .addOption(new Option('--reason <text>', 'why, for the audit log and the key (up to 500 characters)'))
    .addOption(forceOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      example(
        'scope-auth keys revoke key_01J... --org org_01J... --reason "leaked in a CI log"',
        'Tokens it already obtained stay valid for offline verifiers until they expire (SCOPE_AUTH_TOKEN_TTL_MAX at most).',
        'Revoking a revoked key changes nothing. The last active admin key of the root organization is revoked only with --force.',
      ),
    )
    .action(async (keyId: string, options: { org: string; reason?: string; force?: boolean; json?: boolean }) => {
      const out = outputFor(io);
      const before = out.clock.now();
      const key = await withSession(io, async (session) =>
        revokeKey(session.deps, await session.actorIn(options.org), { keyId, reason: options.reason ?? null, force: options.force === true }),
      );
      if (options.json) return out.json(renderKey(key));
      const reason = key.revoke_reason === null ? '' : ` (reason: ${key.revoke_reason})`;
      if (key.revoked_at !== null && key.revoked_at < before) {
        out.line(`Key ${key.id} was already revoked ${out.ago(key.revoked_at)} by ${key.revoked_by ?? 'unknown'}${reason}.`);
      } else {
        out.line(`Revoked key ${out.paint('bold', key.id)} "${key.name}"${reason}. Its exchanges fail from now on.`);
      }
    });

  const roll = keys
    .command('roll')
    .description('Replace a key: a new key (and secret) for the same app now; the old one keeps working for the grace period, then expires')
    .argument('<key_id>', 'the key to replace', idArgument('key'))
    .addOption(orgOption())
    .addOption(
      new Option('--grace <duration>', 'how long the old key keeps working: 0 to 30 days, e.g. 0, 3600, 90m, 24h, 7d')
        .argParser(duration(0, ROLL_GRACE_MAX_SECONDS))
        .makeOptionMandatory(),
    );
  for (const option of expiryOptions('the new key')) roll.addOption(option);
  roll
    .addOption(jsonOption('print { "key", "secret" } of the new key, as POST /v1/keys/{key_id}/roll answers'))
    .addHelpText(
      'after',
      example(
        'scope-auth keys roll key_01J... --org org_01J... --grace 24h',
        'Without an expiry the new key gets the old one\'s lifetime (when it had one). Use --grace 0 for a leaked key.',
      ),
    )
    .action(async (keyId: string, options: ExpiryOptions & { org: string; grace: number; json?: boolean }) => {
      const out = outputFor(io);
      const rolled = await withSession(io, async (session) =>
        rollKey(session.deps, await session.actorIn(options.org), {
          keyId,
          graceSeconds: options.grace,
          ...requestedExpiry(options, session.deps.clock.now()),
        }),
      );
      if (options.json) return out.json(createdKeyJson(rolled));
      const { key, previous } = rolled;
      const until = previous.expires_at === null ? '' : ` until ${new Date(previous.expires_at).toISOString()} (${out.ago(previous.expires_at)})`;
      out.line(`Rolled key ${previous.id}: it keeps working${until}, then expires.`);
      const expires = key.expires_at === null ? 'never expires' : `expires ${expiry(out, key)}`;
      out.line(`Its replacement is ${out.paint('bold', key.id)} "${key.name}" (same app, ${expires}):`);
      describePolicy(out, key);
      secretBlock(out, { orgId: key.org_id, keyId: key.id, secret: rolled.secret });
    });

  keys
    .command('delete')
    .description('Delete a key for good: exchanges with it fail as for an unknown key (revoke keeps a record instead)')
    .argument('<key_id>', 'the key', idArgument('key'))
    .addOption(orgOption())
    .addOption(forceOption())
    .addOption(jsonOption('print {"id", "deleted": true} (the API answers 204 with no body)'))
    .addHelpText('after', example('scope-auth keys delete key_01J... --org org_01J...'))
    .action(async (keyId: string, options: { org: string; force?: boolean; json?: boolean }) => {
      const out = outputFor(io);
      await withSession(io, async (session) => deleteKey(session.deps, await session.actorIn(options.org), { keyId, force: options.force === true }));
      if (options.json) return out.json({ id: keyId, deleted: true });
      out.line(`Deleted key ${keyId}; its exchanges fail from now on.`);
    });

  const stale = keys
    .command('stale')
    .description(`List active keys nobody has used for a while (default ${STALE_DAYS_DEFAULT} days): candidates to revoke`)
    .addOption(orgOption())
    .addOption(
      new Option('--unused-days <days>', 'not used (or, never used, created) for at least this many days')
        .argParser(wholeNumber(1, 36_500))
        .default(STALE_DAYS_DEFAULT),
    )
    .addOption(new Option('--app <app_id>', "only this app's keys").argParser(idArgument('app')))
    .addOption(jsonOption('print the list as GET /v1/keys?status=active&unused_days=… answers'))
    .addHelpText('after', example('scope-auth keys stale --org org_01J... --unused-days 30'));
  for (const option of pageOptions()) stale.addOption(option);
  stale.action(async (options: PageOptions & { org: string; unusedDays: number; app?: string; json?: boolean }) => {
    const out = outputFor(io);
    const page = await withSession(io, async (session) =>
      listKeys(session.deps, await session.actorIn(options.org), {
        limit: options.limit,
        cursor: options.cursor,
        status: 'active',
        unusedDays: options.unusedDays,
        ...(options.app === undefined ? {} : { appId: options.app }),
      }),
    );
    if (options.json) return out.json(renderPage(page, renderKey));
    const app = options.app === undefined ? '' : ` --app ${options.app}`;
    keyTable(out, page, `No active key has gone unused for ${days(options.unusedDays)}.`, (cursor) =>
      `scope-auth keys stale --org ${options.org} --unused-days ${options.unusedDays}${app} --limit ${options.limit} --cursor ${cursor}`,
    );
    if (page.data.length > 0) {
      out.line();
      out.line(`Revoke one with: scope-auth keys revoke <key_id> --org ${options.org} --reason "unused for ${days(options.unusedDays)}"`);
    }
  });

  registerReportLeak(keys, io);
}
