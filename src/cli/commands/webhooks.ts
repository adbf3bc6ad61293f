// `scope-auth webhooks create | list | show | update | delete | rotate-secret | deliveries`:
// the endpoints an org's key and app events are sent to. The server delivers them; the CLI
// only registers and reads (a change made here is delivered by the running server).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { WEBHOOK_EVENT_TYPES } from '../../domain/webhook-events.js';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  rotateWebhookSecret,
  updateWebhook,
  type CreatedWebhook,
  type UpdateWebhookInput,
  type WebhookView,
} from '../../domain/webhooks.js';
import { renderPage } from '../../http/render.js';
import { renderDelivery, renderWebhook } from '../../http/render-webhooks.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../../store/webhook-deliveries.js';
import { outputFor, serverKek, UsageError, withSession, type CliIo, type Session } from '../context.js';
import { pageTable, type Output } from '../output.js';
import { example, idArgument, jsonOption, pageOptions, type PageOptions } from '../options.js';

const orgOption = () => new Option('--org <org_id>', 'the organization').argParser(idArgument('org')).makeOptionMandatory();
const webhookArgument = ['<webhook_id>', 'the webhook', idArgument('webhook')] as const;

/** Repeatable, and each value may hold several event types separated by spaces or commas. */
function collectEvents(value: string, previous: string[] | undefined): string[] {
  const events = value.split(/[\s,]+/).filter((e) => e !== '');
  const unknown = events.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown event type ${unknown.join(', ')}; expected some of ${WEBHOOK_EVENT_TYPES.join(', ')}`);
  return [...(previous ?? []), ...events];
}
const eventOption = (description: string) => new Option('--event <type>', description).argParser(collectEvents);

interface FieldOptions {
  readonly url?: string;
  readonly event?: string[];
  readonly description?: string;
  readonly json?: boolean;
}

/** What the webhook use cases need from a CLI session. */
const webhookDeps = (session: Session) => ({ db: session.db, clock: session.deps.clock, config: session.config });
/** …and the server's KEK, to seal a new secret. */
const sealingDeps = async (session: Session) => ({ ...webhookDeps(session), kek: await serverKek(session.config) });

function describeWebhook(out: Output, webhook: WebhookView): void {
  const rows: [string, string][] = [
    ['url', webhook.url],
    ['events', webhook.events.join(' ')],
    ['enabled', webhook.enabled ? 'yes' : `no (disabled ${out.ago(webhook.disabled_at)})`],
  ];
  if (webhook.description) rows.push(['description', webhook.description]);
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) out.line(`  ${out.paint('dim', label.padEnd(width))}  ${value}`);
}

function secretOnce(out: Output, created: CreatedWebhook): void {
  out.line();
  out.line(`  ${created.secret}`);
  out.line();
  out.line(out.paint('yellow', 'Copy the signing secret now: it is shown only this once. Receivers verify each delivery with it (docs/webhooks.md).'));
}

const createdJson = (created: CreatedWebhook) => ({ webhook: renderWebhook(created.webhook), secret: created.secret });

export function registerWebhooks(program: Command, io: CliIo): void {
  const webhooks = program.command('webhooks').description("Webhooks: endpoints an organization's key and app events are POSTed to, signed (Standard Webhooks)");

  webhooks
    .command('create')
    .description('Register an endpoint for some event types and print its signing secret, once')
    .addOption(orgOption())
    .addOption(new Option('--url <url>', 'where to POST the events: an https:// URL').makeOptionMandatory())
    .addOption(eventOption(`an event type to send (repeatable): ${WEBHOOK_EVENT_TYPES.join(', ')}`).makeOptionMandatory())
    .addOption(new Option('--description <text>', 'what the endpoint is for'))
    .addOption(jsonOption('print { "webhook", "secret" }, as POST /v1/webhooks answers'))
    .addHelpText('after', example('scope-auth webhooks create --org org_01J... --url https://hooks.example.com/scope-auth --event key.revoked --event key.expiring'))
    .action(async (options: FieldOptions & { org: string }) => {
      const out = outputFor(io);
      const created = await withSession(io, async (session) =>
        createWebhook(await sealingDeps(session), await session.actorIn(options.org), {
          url: options.url ?? '',
          events: options.event ?? [],
          ...(options.description === undefined ? {} : { description: options.description }),
        }),
      );
      if (options.json) return out.json(createdJson(created));
      out.line(`Created webhook ${out.paint('bold', created.webhook.id)} in ${created.webhook.org_id}.`);
      describeWebhook(out, created.webhook);
      secretOnce(out, created);
    });

  const list = webhooks
    .command('list')
    .description("List an organization's webhooks, newest first")
    .addOption(orgOption())
    .addOption(jsonOption())
    .addHelpText('after', example('scope-auth webhooks list --org org_01J...'));
  for (const option of pageOptions()) list.addOption(option);
  list.action(async (options: PageOptions & { org: string; json?: boolean }) => {
    const out = outputFor(io);
    const page = await withSession(io, async (session) => listWebhooks(session.deps, await session.actorIn(options.org), { limit: options.limit, cursor: options.cursor }));
    if (options.json) return out.json(renderPage(page, renderWebhook));
    pageTable(out, page, {
      headers: ['ID', 'URL', 'EVENTS', 'ENABLED', 'CREATED'],
      row: (w) => [w.id, w.url, w.events.join(' '), w.enabled ? 'yes' : 'no', out.ago(w.created_at)],
      empty: `No webhooks in ${options.org}.`,
      next: (cursor) => `scope-auth webhooks list --org ${options.org} --limit ${options.limit} --cursor ${cursor}`,
    });
  });

  webhooks
    .command('show')
    .description('Show one webhook (never its secret)')
    .argument(...webhookArgument)
    .addOption(orgOption())
    .addOption(jsonOption())
    .addHelpText('after', example('scope-auth webhooks show whk_01J... --org org_01J...'))
    .action(async (webhookId: string, options: { org: string; json?: boolean }) => {
      const out = outputFor(io);
      const webhook = await withSession(io, async (session) => getWebhook(session.deps, await session.actorIn(options.org), { webhookId }));
      if (options.json) return out.json(renderWebhook(webhook));
      out.line(`Webhook ${out.paint('bold', webhook.id)} in ${webhook.org_id}, created ${out.ago(webhook.created_at)} by ${webhook.created_by_name ?? webhook.created_by}.`);
      describeWebhook(out, webhook);
    });

  webhooks
    .command('update')
    .description('Change a webhook: its URL, event types or description; disable or enable it')
    .argument(...webhookArgument)
    .addOption(orgOption())
    .addOption(new Option('--url <url>', 'a new https:// URL'))
    .addOption(eventOption('the complete new set of event types (repeatable; replaces the current set)'))
    .addOption(new Option('--description <text>', 'a new description'))
    .addOption(new Option('--disable', 'stop sending events to it (pending deliveries fail)').conflicts('enable'))
    .addOption(new Option('--enable', 'send events to it again'))
    .addOption(jsonOption())
    .addHelpText('after', example(['scope-auth webhooks update whk_01J... --org org_01J... --event key.revoked', 'scope-auth webhooks update whk_01J... --org org_01J... --disable']))
    .action(async (webhookId: string, options: FieldOptions & { org: string; enable?: boolean; disable?: boolean }) => {
      const out = outputFor(io);
      const input: UpdateWebhookInput = {
        webhookId,
        ...(options.url === undefined ? {} : { url: options.url }),
        ...(options.event === undefined ? {} : { events: options.event }),
        ...(options.description === undefined ? {} : { description: options.description }),
        ...(options.enable ? { enabled: true } : options.disable ? { enabled: false } : {}),
      };
      if (Object.keys(input).length === 1) throw new UsageError('nothing to change: give at least one of --url, --event, --description, --enable, --disable');
      const webhook = await withSession(io, async (session) => updateWebhook(webhookDeps(session), await session.actorIn(options.org), input));
      if (options.json) return out.json(renderWebhook(webhook));
      out.line(`Updated webhook ${out.paint('bold', webhook.id)}.`);
      describeWebhook(out, webhook);
    });

  webhooks
    .command('delete')
    .description('Delete a webhook and its deliveries, pending ones included')
    .argument(...webhookArgument)
    .addOption(orgOption())
    .addOption(jsonOption('print {"id", "deleted": true} (the API answers 204 with no body)'))
    .addHelpText('after', example('scope-auth webhooks delete whk_01J... --org org_01J...'))
    .action(async (webhookId: string, options: { org: string; json?: boolean }) => {
      const out = outputFor(io);
      await withSession(io, async (session) => deleteWebhook(webhookDeps(session), await session.actorIn(options.org), { webhookId }));
      if (options.json) return out.json({ id: webhookId, deleted: true });
      out.line(`Deleted webhook ${webhookId}.`);
    });

  webhooks
    .command('rotate-secret')
    .description('Give a webhook a new signing secret and print it, once; every attempt from now on is signed with it')
    .argument(...webhookArgument)
    .addOption(orgOption())
    .addOption(jsonOption('print { "webhook", "secret" }, as POST /v1/webhooks/{webhook_id}/rotate-secret answers'))
    .addHelpText('after', example('scope-auth webhooks rotate-secret whk_01J... --org org_01J...', 'Update the receivers with the new secret right after: the next attempt is signed with it.'))
    .action(async (webhookId: string, options: { org: string; json?: boolean }) => {
      const out = outputFor(io);
      const rotated = await withSession(io, async (session) => rotateWebhookSecret(await sealingDeps(session), await session.actorIn(options.org), { webhookId }));
      if (options.json) return out.json(createdJson(rotated));
      out.line(`Webhook ${out.paint('bold', rotated.webhook.id)} has a new signing secret.`);
      secretOnce(out, rotated);
    });

  const deliveries = webhooks
    .command('deliveries')
    .description("List a webhook's deliveries, newest first: status, attempts, the last answer")
    .argument(...webhookArgument)
    .addOption(orgOption())
    .addOption(new Option('--status <status>', 'only deliveries in this status').choices(DELIVERY_STATUSES))
    .addOption(jsonOption())
    .addHelpText('after', example('scope-auth webhooks deliveries whk_01J... --org org_01J... --status failed'));
  for (const option of pageOptions()) deliveries.addOption(option);
  deliveries.action(async (webhookId: string, options: PageOptions & { org: string; status?: DeliveryStatus; json?: boolean }) => {
    const out = outputFor(io);
    const page = await withSession(io, async (session) =>
      listDeliveries(session.deps, await session.actorIn(options.org), {
        webhookId,
        limit: options.limit,
        cursor: options.cursor,
        ...(options.status === undefined ? {} : { status: options.status }),
      }),
    );
    if (options.json) return out.json(renderPage(page, renderDelivery));
    const status = options.status === undefined ? '' : ` --status ${options.status}`;
    pageTable(out, page, {
      headers: ['ID', 'EVENT', 'STATUS', 'ATTEMPTS', 'LAST ANSWER', 'NEXT ATTEMPT', 'CREATED'],
      row: (d) => [
        d.id,
        d.event_type,
        d.status,
        String(d.attempts),
        d.last_status_code === null ? (d.last_error ?? '-') : String(d.last_status_code),
        d.next_attempt_at === null ? '-' : out.ago(d.next_attempt_at),
        out.ago(d.created_at),
      ],
      empty: status === '' ? `No deliveries for ${webhookId} yet.` : 'No deliveries match.',
      next: (cursor) => `scope-auth webhooks deliveries ${webhookId} --org ${options.org}${status} --limit ${options.limit} --cursor ${cursor}`,
    });
  });
}
