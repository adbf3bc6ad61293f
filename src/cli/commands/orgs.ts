// `scope-auth orgs create | list | show | update | disable | enable | delete`: tenants, each
// created with an `admin` app and key, with the allowance of scopes its apps may hold.
import { Option, type Command } from 'commander';
import { deleteOrg, showOrg, updateOrg, type UpdateOrgInput } from '../../domain/org-admin.js';
import { AUTO_REVOKE_UNUSED_DAYS_MAX, createOrg, listOrgs, type OrgView } from '../../domain/orgs.js';
import { renderOrg, renderPage } from '../../http/render.js';
import { outputFor, UsageError, withSession, type CliIo } from '../context.js';
import { createdOrgJson } from '../json.js';
import { pageTable, secretBlock, type Output } from '../output.js';
import { collectScopes, example, idArgument, jsonOption, pageOptions, wholeNumber, type PageOptions } from '../options.js';

/** Key-value lines describing an org for people. */
function describeOrg(out: Output, org: OrgView): void {
  const rows: [string, string][] = [
    ['id', org.id],
    ['root', org.is_root ? 'yes (cannot be disabled or deleted)' : 'no'],
    ['status', org.disabled ? out.paint('red', `disabled ${out.ago(org.disabled_at)}`) : 'enabled'],
    ['allowed scopes', org.allowed_scopes === null ? 'every non-admin scope of the catalogue (default)' : org.allowed_scopes.join(' ') || '(none)'],
    ['effective', org.effective_allowed_scopes.join(' ') || '(none)'],
    ['second factor', org.require_mfa ? 'required of its people' : 'optional'],
    [
      'unused keys',
      org.auto_revoke_unused_days === null ? 'kept (never revoked by the server)' : `revoked after ${org.auto_revoke_unused_days} days unused`,
    ],
    ['created', `${out.ago(org.created_at)} by ${org.created_by}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) out.line(`  ${out.paint('dim', label.padEnd(width))}  ${value}`);
}

interface UpdateOptions {
  readonly name?: string;
  readonly allowScope?: string[];
  readonly allowAllScopes?: boolean;
  readonly allowNoScopes?: boolean;
  readonly requireMfa?: boolean;
  /** A number of days, or false for --no-auto-revoke-unused-days. */
  readonly autoRevokeUnusedDays?: number | false;
  readonly json?: boolean;
}

const autoRevokeOption = () =>
  new Option('--auto-revoke-unused-days <days>', 'revoke its active keys unused (or, never used, created) this many days ago, on the server, reason "unused"').argParser(
    wholeNumber(1, AUTO_REVOKE_UNUSED_DAYS_MAX),
  );

export function registerOrgs(program: Command, io: CliIo): void {
  const orgs = program
    .command('orgs')
    .description('Organizations: the tenants, each with its own apps, keys and audit log');

  orgs
    .command('create')
    .description('Create an organization with an `admin` app (the built-in admin scopes) and a first key for it')
    .argument('<name>', 'a name for people, 1-100 characters')
    .addOption(autoRevokeOption())
    .addOption(jsonOption())
    .addHelpText(
      'after',
      example(
        ['scope-auth orgs create "Acme Corp"', 'scope-auth orgs create "Acme Corp" --auto-revoke-unused-days 90'],
        "Prints the admin key's secret once: hand it to the organization's admin.",
        'Its apps may be granted the scopes of SCOPE_AUTH_ORG_DEFAULT_SCOPES (default: every non-admin scope); "orgs update --allow-scope" changes that.',
      ),
    )
    .action(async (name: string, options: { autoRevokeUnusedDays?: number; json?: boolean }) => {
      const out = outputFor(io);
      const input = { name, ...(options.autoRevokeUnusedDays === undefined ? {} : { autoRevokeUnusedDays: options.autoRevokeUnusedDays }) };
      const created = await withSession(io, async (session) => createOrg(session.deps, await session.rootActor(), input));
      if (options.json) return out.json(createdOrgJson(created));
      out.line(`Created organization ${out.paint('bold', created.org.name)} (${created.org.id}).`);
      out.line(`Its app "${created.adminApp.name}" (${created.adminApp.id}) holds ${created.adminApp.scopes.join(' ')};`);
      out.line(`this is its key ${created.key.id}:`);
      secretBlock(out, { orgId: created.org.id, keyId: created.key.id, secret: created.secret });
    });

  const list = orgs
    .command('list')
    .description('List the organizations, newest first')
    .addOption(jsonOption())
    .addHelpText('after', example(['scope-auth orgs list', 'scope-auth orgs list --json --limit 200']));
  for (const option of pageOptions()) list.addOption(option);
  list.action(async (options: PageOptions & { json?: boolean }) => {
    const out = outputFor(io);
    const page = await withSession(io, async (session) =>
      listOrgs(session.deps, await session.rootActor(), { limit: options.limit, cursor: options.cursor }),
    );
    if (options.json) return out.json(renderPage(page, renderOrg));
    pageTable(out, page, {
      headers: ['ID', 'NAME', 'ROOT', 'STATUS', 'CREATED', 'BY'],
      row: (org) => [org.id, org.name, org.is_root ? 'yes' : '', org.disabled ? 'disabled' : 'enabled', out.ago(org.created_at), org.created_by],
      empty: 'No organizations.',
      next: (cursor) => `scope-auth orgs list --limit ${options.limit} --cursor ${cursor}`,
    });
  });

  orgs
    .command('show')
    .description('Show an organization: its allowance of scopes and whether it is disabled')
    .argument('<org_id>', 'the organization', idArgument('org'))
    .addOption(jsonOption())
    .addHelpText('after', example('scope-auth orgs show org_01J...'))
    .action(async (orgId: string, options: { json?: boolean }) => {
      const out = outputFor(io);
      const org = await withSession(io, async (session) => showOrg(session.deps, await session.rootActor(), { orgId }));
      if (options.json) return out.json(renderOrg(org));
      out.line(`Organization ${out.paint('bold', org.name)}`);
      describeOrg(out, org);
    });

  orgs
    .command('update')
    .description(
      "Rename an organization, set its allowance (the catalogue scopes its apps may be granted; every app's next token carries only scopes within it), require a second factor of its people, or have its unused keys revoked",
    )
    .argument('<org_id>', 'the organization', idArgument('org'))
    .addOption(new Option('--name <name>', 'a new name'))
    .addOption(
      new Option('--allow-scope <scope>', 'the complete new allowance (repeatable, or separate scopes with spaces or commas; replaces the current one)').argParser(
        collectScopes,
      ),
    )
    .addOption(new Option('--allow-all-scopes', 'allow every non-admin scope of the catalogue again, as it grows (the default)').conflicts(['allowScope', 'allowNoScopes']))
    .addOption(new Option('--allow-no-scopes', 'allow no catalogue scope: its apps keep only admin scopes').conflicts('allowScope'))
    .addOption(new Option('--require-mfa', 'require a second factor of its people: who has none signs in to enrolment first'))
    .addOption(new Option('--no-require-mfa', 'make the second factor optional again (the default)'))
    .addOption(autoRevokeOption())
    .addOption(new Option('--no-auto-revoke-unused-days', 'never revoke its keys for being unused (the default)'))
    .addOption(jsonOption())
    .addHelpText(
      'after',
      example(
        [
          'scope-auth orgs update org_01J... --allow-scope runtime:run --allow-scope agents:view',
          'scope-auth orgs update org_01J... --name "Acme Inc" --allow-all-scopes',
          'scope-auth orgs update org_01J... --auto-revoke-unused-days 90',
        ],
        'Levels and implications expand as usual: agents:edit allows agents:view too. Admin scopes are outside allowances.',
        `Keys unused that long already are revoked at the server's next sweep (every 5 minutes by default, SCOPE_AUTH_KEY_POLICY_INTERVAL_MS): "keys stale --org ORG --unused-days N" lists them first.`,
      ),
    )
    .action(async (orgId: string, options: UpdateOptions) => {
      const out = outputFor(io);
      const allowance = options.allowAllScopes ? null : options.allowNoScopes ? [] : options.allowScope;
      const input: UpdateOrgInput = {
        orgId,
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(allowance === undefined ? {} : { allowedScopes: allowance }),
        ...(options.requireMfa === undefined ? {} : { requireMfa: options.requireMfa }),
        ...(options.autoRevokeUnusedDays === undefined ? {} : { autoRevokeUnusedDays: options.autoRevokeUnusedDays === false ? null : options.autoRevokeUnusedDays }),
      };
      if (Object.keys(input).length === 1) {
        throw new UsageError(
          'nothing to change: give at least one of --name, --allow-scope, --allow-all-scopes, --allow-no-scopes, --require-mfa, --no-require-mfa, --auto-revoke-unused-days, --no-auto-revoke-unused-days',
        );
      }
      const org = await withSession(io, async (session) => updateOrg(session.deps, await session.rootActor(), input));
      if (options.json) return out.json(renderOrg(org));
      out.line(`Updated organization ${out.paint('bold', org.name)}.`);
      describeOrg(out, org);
    });

  for (const [command, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    orgs
      .command(command)
      .description(
        disabled
          ? 'Disable an organization: from now on its keys exchange nothing and its admin tokens are refused, on every instance'
          : 'Enable a disabled organization again: its keys and admin tokens work as before',
      )
      .argument('<org_id>', 'the organization', idArgument('org'))
      .addOption(jsonOption())
      .addHelpText('after', example(`scope-auth orgs ${command} org_01J...`))
      .action(async (orgId: string, options: { json?: boolean }) => {
        const out = outputFor(io);
        const org = await withSession(io, async (session) => updateOrg(session.deps, await session.rootActor(), { orgId, disabled }));
        if (options.json) return out.json(renderOrg(org));
        out.line(
          disabled
            ? `Disabled organization ${out.paint('bold', org.name)} (${org.id}): its keys and admin tokens no longer work.`
            : `Enabled organization ${out.paint('bold', org.name)} (${org.id}).`,
        );
      });
  }

  orgs
    .command('delete')
    .description('Delete an organization with its apps and keys (they stop working at once); its audit log stays')
    .argument('<org_id>', 'the organization', idArgument('org'))
    .addOption(jsonOption('print {"id", "deleted": true} (the API answers 204 with no body)'))
    .addHelpText('after', example('scope-auth orgs delete org_01J...', 'The root organization cannot be deleted. To stop an org for now, "orgs disable" it instead.'))
    .action(async (orgId: string, options: { json?: boolean }) => {
      const out = outputFor(io);
      await withSession(io, async (session) => deleteOrg(session.deps, await session.rootActor(), { orgId }));
      if (options.json) return out.json({ id: orgId, deleted: true });
      out.line(`Deleted organization ${orgId} with its apps and keys; its audit log stays.`);
    });
}
