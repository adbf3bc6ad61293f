// `scope-auth apps create | list | update | delete`: named sets of scopes in an org.
import { Option, type Command } from 'commander';
import type { Config } from '../../config.js';
import { createApp, deleteApp, listApps, updateApp, type AppView, type UpdateAppInput } from '../../domain/apps.js';
import { renderApp, renderPage } from '../../http/render.js';
import { outputFor, UsageError, withSession, type CliIo } from '../context.js';
import { pageTable, type Output } from '../output.js';
import { collectAddresses, collectScopes, duration, example, forceOption, idArgument, jsonOption, pageOptions, type PageOptions } from '../options.js';

interface AppFieldOptions {
  readonly name?: string;
  readonly scope?: string[];
  readonly description?: string;
  /** A string, or false for --no-audience. */
  readonly audience?: string | false;
  /** Seconds, or false for --no-ttl. */
  readonly ttl?: number | false;
  readonly allowIp?: string[];
  readonly allowAnyIp?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
}

const orgOption = () => new Option('--org <org_id>', 'the organization').argParser(idArgument('org')).makeOptionMandatory();
const ttlOption = () =>
  new Option('--ttl <duration>', 'token lifetime for its keys, e.g. 600, 15m or 1h (default: SCOPE_AUTH_TOKEN_TTL)').argParser(duration(1, 86_400));
const scopeOption = (description: string) => new Option('--scope <scope>', description).argParser(collectScopes);
const allowIpOption = (description: string) => new Option('--allow-ip <cidr>', description).argParser(collectAddresses);

/** Key-value lines describing an app for people; the server defaults named where they apply. */
export function describeApp(out: Output, app: AppView, config: Config): void {
  const rows: [string, string][] = [
    ['scopes', app.scopes.join(' ') || '(none)'],
    ['effective scopes', app.effective_scopes.join(' ') || '(none)'],
    ['audience', app.audience ?? `${config.audience} (server default)`],
    ['token lifetime', app.token_ttl_seconds === null ? `${config.tokenTtlSeconds} s (server default)` : `${app.token_ttl_seconds} s`],
    ['allowed IPs', app.allowed_ips === null ? 'any address' : app.allowed_ips.join(' ')],
  ];
  if (app.description) rows.unshift(['description', app.description]);
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) out.line(`  ${out.paint('dim', label.padEnd(width))}  ${value}`);
}

export function registerApps(program: Command, io: CliIo): void {
  const apps = program
    .command('apps')
    .description('Apps: named sets of granted scopes; every key of an app gets its scopes');

  apps
    .command('create')
    .description('Create an app in an organization')
    .addOption(orgOption())
    .addOption(new Option('--name <name>', 'a name for people, 1-100 characters').makeOptionMandatory())
    .addOption(scopeOption('a scope to grant (repeat it, or separate scopes with spaces or commas)').makeOptionMandatory())
    .addOption(new Option('--description <text>', 'what the app is for'))
    .addOption(new Option('--audience <aud>', "the `aud` of its tokens: an audience of the catalogue (default: SCOPE_AUTH_AUDIENCE)"))
    .addOption(ttlOption())
    .addOption(allowIpOption('an address or CIDR range its keys may exchange from (repeatable; default: any address)'))
    .addOption(jsonOption())
    .addHelpText(
      'after',
      example(
        'scope-auth apps create --org org_01J... --name ci-deployer --scope tools:deploy --scope agents:view --ttl 10m --allow-ip 203.0.113.0/24',
        'Scopes come from the catalogue (GET /v1/scopes, or the file SCOPE_AUTH_CATALOG names).',
        'With --allow-ip, an exchange from any other client address is refused (invalid_client); see SCOPE_AUTH_TRUST_PROXY behind a proxy.',
      ),
    )
    .action(async (options: AppFieldOptions & { org: string }) => {
      const out = outputFor(io);
      const { app, config } = await withSession(io, async (session) => ({
        config: session.config,
        app: await createApp(session.deps, await session.actorIn(options.org), {
          name: options.name ?? '',
          scopes: options.scope ?? [],
          ...(options.description === undefined ? {} : { description: options.description }),
          ...(typeof options.audience === 'string' ? { audience: options.audience } : {}),
          ...(typeof options.ttl === 'number' ? { tokenTtlSeconds: options.ttl } : {}),
          ...(options.allowIp === undefined ? {} : { allowedIps: options.allowIp }),
        }),
      }));
      if (options.json) return out.json(renderApp(app));
      out.line(`Created app ${out.paint('bold', app.name)} (${app.id}) in ${app.org_id}.`);
      describeApp(out, app, config);
      out.line();
      out.line(`Give it a key: scope-auth keys create --org ${app.org_id} --app ${app.id} --name <name>`);
    });

  const list = apps
    .command('list')
    .description("List an organization's apps, newest first")
    .addOption(orgOption())
    .addOption(jsonOption())
    .addHelpText('after', example('scope-auth apps list --org org_01J...'));
  for (const option of pageOptions()) list.addOption(option);
  list.action(async (options: PageOptions & { org: string; json?: boolean }) => {
    const out = outputFor(io);
    const page = await withSession(io, async (session) =>
      listApps(session.deps, await session.actorIn(options.org), { limit: options.limit, cursor: options.cursor }),
    );
    if (options.json) return out.json(renderPage(page, renderApp));
    pageTable(out, page, {
      headers: ['ID', 'NAME', 'SCOPES', 'TTL', 'AUDIENCE', 'CREATED'],
      row: (app) => [
        app.id,
        app.name,
        app.scopes.join(' '),
        app.token_ttl_seconds === null ? 'default' : `${app.token_ttl_seconds}s`,
        app.audience ?? 'default',
        out.ago(app.created_at),
      ],
      empty: `No apps in ${options.org}.`,
      next: (cursor) => `scope-auth apps list --org ${options.org} --limit ${options.limit} --cursor ${cursor}`,
    });
  });

  apps
    .command('update')
    .description("Change an app; new scopes apply from the next token exchange of each of its keys")
    .argument('<app_id>', 'the app', idArgument('app'))
    .addOption(orgOption())
    .addOption(new Option('--name <name>', 'a new name'))
    .addOption(scopeOption('the complete new set of scopes (repeatable; replaces the current set)'))
    .addOption(new Option('--description <text>', 'a new description'))
    .addOption(new Option('--audience <aud>', 'a new `aud` for its tokens: an audience of the catalogue'))
    .addOption(new Option('--no-audience', 'use the server default audience (SCOPE_AUTH_AUDIENCE) again'))
    .addOption(ttlOption())
    .addOption(new Option('--no-ttl', 'use the server default token lifetime (SCOPE_AUTH_TOKEN_TTL) again'))
    .addOption(allowIpOption('the complete new list of addresses and CIDR ranges its keys may exchange from (repeatable; replaces the list)').conflicts('allowAnyIp'))
    .addOption(new Option('--allow-any-ip', 'remove the list: its keys may exchange from any address again'))
    .addOption(forceOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      example([
        'scope-auth apps update app_01J... --org org_01J... --scope agents:view --scope runtime:run',
        'scope-auth apps update app_01J... --org org_01J... --name deployer --no-ttl',
        'scope-auth apps update app_01J... --org org_01J... --allow-ip 203.0.113.0/24 --allow-ip 2001:db8::/32',
        'scope-auth apps update app_01J... --org org_01J... --allow-any-ip',
      ]),
    )
    .action(async (appId: string, options: AppFieldOptions & { org: string }) => {
      const out = outputFor(io);
      const input: UpdateAppInput = {
        appId,
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.scope === undefined ? {} : { scopes: options.scope }),
        ...(options.description === undefined ? {} : { description: options.description }),
        ...(options.audience === undefined ? {} : { audience: options.audience === false ? null : options.audience }),
        ...(options.ttl === undefined ? {} : { tokenTtlSeconds: options.ttl === false ? null : options.ttl }),
        ...(options.allowIp === undefined ? {} : { allowedIps: options.allowIp }),
        ...(options.allowAnyIp === true ? { allowedIps: null } : {}),
      };
      if (Object.keys(input).length === 1) {
        throw new UsageError(
          'nothing to change: give at least one of --name, --scope, --description, --audience, --no-audience, --ttl, --no-ttl, --allow-ip, --allow-any-ip',
        );
      }
      const { app, config } = await withSession(io, async (session) => ({
        config: session.config,
        app: await updateApp(session.deps, await session.actorIn(options.org), { ...input, force: options.force === true }),
      }));
      if (options.json) return out.json(renderApp(app));
      out.line(`Updated app ${out.paint('bold', app.name)} (${app.id}).`);
      describeApp(out, app, config);
    });

  apps
    .command('delete')
    .description('Delete an app: it and its keys are gone, and its keys stop working at once')
    .argument('<app_id>', 'the app', idArgument('app'))
    .addOption(orgOption())
    .addOption(forceOption())
    .addOption(jsonOption('print {"id", "deleted": true} (the API answers 204 with no body)'))
    .addHelpText('after', example('scope-auth apps delete app_01J... --org org_01J...'))
    .action(async (appId: string, options: { org: string; force?: boolean; json?: boolean }) => {
      const out = outputFor(io);
      await withSession(io, async (session) => deleteApp(session.deps, await session.actorIn(options.org), { appId, force: options.force === true }));
      if (options.json) return out.json({ id: appId, deleted: true });
      out.line(`Deleted app ${appId}; its keys no longer work.`);
    });
}
