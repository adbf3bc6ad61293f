// `scope-auth audit`: an org's audit log, newest first.
import { Option, type Command } from 'commander';
import { listAuditEvents, type AuditEventView } from '../../domain/audit.js';
import { renderAuditEvent, renderPage } from '../../http/render.js';
import { outputFor, withSession, type CliIo } from '../context.js';
import { pageTable } from '../output.js';
import { example, idArgument, jsonOption, pageOptions, type PageOptions } from '../options.js';

const DETAILS_WIDTH = 80;

/** `key=value` pairs, cut to a table-friendly width; --json has them whole. */
function summarize(details: Record<string, unknown>): string {
  const text = Object.entries(details)
    .filter(([, value]) => value !== null && value !== '')
    .map(([name, value]) => `${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return text.length > DETAILS_WIDTH ? text.slice(0, DETAILS_WIDTH - 1) + '…' : text;
}

export function registerAudit(program: Command, io: CliIo): void {
  const audit = program
    .command('audit')
    .description("Show an organization's audit log, newest first: who did what to which object (a deleted organization's too)")
    .addOption(new Option('--org <org_id>', 'the organization').argParser(idArgument('org')).makeOptionMandatory())
    .addOption(new Option('--action <action>', 'only this action, e.g. key.revoked, app.updated, token.refused'))
    .addOption(new Option('--target <id>', 'only events about this app, key or org'))
    .addOption(jsonOption())
    .addHelpText(
      'after',
      example(['scope-auth audit --org org_01J... --limit 20', 'scope-auth audit --org org_01J... --action key.revoked --json']),
    );
  for (const option of pageOptions()) audit.addOption(option);
  audit.action(async (options: PageOptions & { org: string; action?: string; target?: string; json?: boolean }) => {
    const out = outputFor(io);
    const page = await withSession(io, async (session) =>
      listAuditEvents(session.deps, await session.readerOfLog(options.org), {
        limit: options.limit,
        cursor: options.cursor,
        ...(options.action === undefined ? {} : { action: options.action }),
        ...(options.target === undefined ? {} : { targetId: options.target }),
      }),
    );
    if (options.json) return out.json(renderPage(page, renderAuditEvent));
    const filters = [options.action && `--action ${options.action}`, options.target && `--target ${options.target}`].filter(Boolean);
    pageTable<AuditEventView>(out, page, {
      headers: ['WHEN', 'ACTOR', 'ACTION', 'TARGET', 'IP', 'DETAILS'],
      row: (event) => [out.ago(event.at), event.actor, event.action, event.target_id ?? '', event.ip ?? '', summarize(event.details)],
      empty: filters.length > 0 ? 'No events match.' : `No events in ${options.org}.`,
      next: (cursor) => ['scope-auth audit --org', options.org, ...filters, `--limit ${options.limit} --cursor ${cursor}`].join(' '),
    });
  });
}
