// `scope-auth orgs create <name> | list`: tenants, each created with an `admin` app and key.
import type { Command } from 'commander';
import { createOrg, listOrgs } from '../../domain/orgs.js';
import { renderOrg, renderPage } from '../../http/render.js';
import { outputFor, withSession, type CliIo } from '../context.js';
import { createdOrgJson } from '../json.js';
import { pageTable, secretBlock } from '../output.js';
import { example, jsonOption, pageOptions, type PageOptions } from '../options.js';

export function registerOrgs(program: Command, io: CliIo): void {
  const orgs = program
    .command('orgs')
    .description('Organizations: the tenants, each with its own apps, keys and audit log');

  orgs
    .command('create')
    .description('Create an organization with an `admin` app (the built-in admin scopes) and a first key for it')
    .argument('<name>', 'a name for people, 1-100 characters')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      example('scope-auth orgs create "Acme Corp"', "Prints the admin key's secret once: hand it to the organization's admin."),
    )
    .action(async (name: string, options: { json?: boolean }) => {
      const out = outputFor(io);
      const created = await withSession(io, async (session) => createOrg(session.deps, await session.rootActor(), { name }));
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
      headers: ['ID', 'NAME', 'ROOT', 'CREATED', 'BY'],
      row: (org) => [org.id, org.name, org.is_root ? 'yes' : '', out.ago(org.created_at), org.created_by],
      empty: 'No organizations.',
      next: (cursor) => `scope-auth orgs list --limit ${options.limit} --cursor ${cursor}`,
    });
  });
}
