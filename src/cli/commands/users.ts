// `scope-auth users invite | list | disable | enable | reset-password | reset-mfa | delete`: the people
// of an organization, who sign in with an email and a password. The server sends no mail:
// invite and reset-password print a one-time link to hand over.
import { Option, type Command } from 'commander';
import { deleteUser, inviteUser, issuePasswordReset, listUsers, updateUser, type PersonView } from '../../domain/people.js';
import { ROLES } from '../../domain/roles.js';
import { resetSecondFactor } from '../../domain/second-factor.js';
import { renderPage, renderPerson } from '../../http/render.js';
import { outputFor, withSession, type CliIo } from '../context.js';
import { pageTable, stateColour, type Output } from '../output.js';
import { example, idArgument, jsonOption, pageOptions, type PageOptions } from '../options.js';

const orgOption = () => new Option('--org <org_id>', 'the organization').argParser(idArgument('org')).makeOptionMandatory();
const forceOwnerOption = () => new Option('--force', 'do it even if it leaves the organization without an active owner');

function status(out: Output, person: PersonView): string {
  return out.paint(person.status === 'invited' ? 'cyan' : stateColour(person.status === 'disabled' ? 'revoked' : person.status), person.status);
}

function handOver(out: Output, what: string, url: string, ttlHours: number): void {
  out.line();
  out.line(`  ${url}`);
  out.line();
  out.line(out.paint('yellow', `Hand this link to the person yourself (the server sends no mail). It works once, for ${ttlHours} hours.`));
  out.line(`Opening it shows the ${what} page of the console; until the console exists, accept it with POST /v1/invitations/{token}.`);
}

export function registerUsers(program: Command, io: CliIo): void {
  const users = program.command('users').description('People: named admins of an organization who sign in, each with a role (viewer, editor, owner)');

  users
    .command('invite')
    .description('Invite an email with a role, and print the one-time link that lets them set their name and password')
    .addOption(orgOption())
    .addOption(new Option('--email <email>', 'their email address (how they will sign in)').makeOptionMandatory())
    .addOption(new Option('--role <role>', 'viewer: read apps, keys, audit; editor: and change apps and keys; owner: and create apps and manage people').choices(ROLES).makeOptionMandatory())
    .addOption(jsonOption('print { "user", "invitation_url" }, as POST /v1/users answers'))
    .addHelpText(
      'after',
      example(
        'scope-auth users invite --org org_01J... --email ada@example.com --role owner',
        'Inviting someone still invited replaces their link. Owners of the root organization also manage organizations.',
      ),
    )
    .action(async (options: { org: string; email: string; role: string; json?: boolean }) => {
      const out = outputFor(io);
      const { invited, ttl } = await withSession(io, async (session) => ({
        invited: await inviteUser(session.deps, await session.actorIn(options.org), { email: options.email, role: options.role }),
        ttl: session.config.people.invitationTtlSeconds,
      }));
      if (options.json) return out.json({ user: renderPerson(invited.user), invitation_url: invited.invitationUrl });
      out.line(`Invited ${out.paint('bold', invited.user.email)} (${invited.user.id}) as ${invited.user.role} of ${invited.user.org_id}:`);
      handOver(out, 'invitation', invited.invitationUrl, Math.round(ttl / 3600));
    });

  const list = users
    .command('list')
    .description("List an organization's people, newest first: role, status, last sign-in")
    .addOption(orgOption())
    .addOption(jsonOption())
    .addHelpText('after', example('scope-auth users list --org org_01J...'));
  for (const option of pageOptions()) list.addOption(option);
  list.action(async (options: PageOptions & { org: string; json?: boolean }) => {
    const out = outputFor(io);
    const page = await withSession(io, async (session) => listUsers(session.deps, await session.actorIn(options.org), { limit: options.limit, cursor: options.cursor }));
    if (options.json) return out.json(renderPage(page, renderPerson));
    pageTable(out, page, {
      headers: ['ID', 'EMAIL', 'NAME', 'ROLE', 'STATUS', 'LAST SIGN-IN', 'CREATED'],
      row: (person) => [person.id, person.email, person.name, person.role, status(out, person), out.ago(person.last_sign_in_at), out.ago(person.created_at)],
      empty: `No people in ${options.org}: "scope-auth users invite" invites one.`,
      next: (cursor) => `scope-auth users list --org ${options.org} --limit ${options.limit} --cursor ${cursor}`,
    });
  });

  for (const [command, target] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    const sub = users
      .command(command)
      .description(
        target === 'disabled'
          ? 'Disable a person: their sessions end at once, on every instance, and they cannot sign in'
          : 'Enable a disabled person again: they can sign in as before',
      )
      .argument('<user_id>', 'the person', idArgument('user'))
      .addOption(orgOption());
    if (target === 'disabled') sub.addOption(forceOwnerOption());
    sub
      .addOption(jsonOption())
      .addHelpText('after', example(`scope-auth users ${command} usr_01J... --org org_01J...`))
      .action(async (userId: string, options: { org: string; force?: boolean; json?: boolean }) => {
        const out = outputFor(io);
        const person = await withSession(io, async (session) =>
          updateUser(session.deps, await session.actorIn(options.org), { userId, status: target, force: options.force === true }),
        );
        if (options.json) return out.json(renderPerson(person));
        out.line(target === 'disabled' ? `Disabled ${person.email} (${person.id}); their sessions have ended.` : `Enabled ${person.email} (${person.id}).`);
      });
  }

  users
    .command('reset-password')
    .description('Print a one-time link that lets a person set a new password; their sessions end now')
    .argument('<user_id>', 'the person', idArgument('user'))
    .addOption(orgOption())
    .addOption(jsonOption('print { "reset_url" }, as POST /v1/users/{id}/password-reset answers'))
    .addHelpText('after', example('scope-auth users reset-password usr_01J... --org org_01J...'))
    .action(async (userId: string, options: { org: string; json?: boolean }) => {
      const out = outputFor(io);
      const { issued, ttl } = await withSession(io, async (session) => ({
        issued: await issuePasswordReset(session.deps, await session.actorIn(options.org), { userId }),
        ttl: session.config.people.invitationTtlSeconds,
      }));
      if (options.json) return out.json({ reset_url: issued.resetUrl });
      out.line(`Password reset for ${out.paint('bold', issued.user.email)} (${issued.user.id}); their sessions have ended:`);
      handOver(out, 'password-reset', issued.resetUrl, Math.round(ttl / 3600));
    });

  users
    .command('reset-mfa')
    .description('Remove a person\'s second factor and recovery codes, for someone who lost both: they sign in with their password alone again (or enrol a new one first, where the organization requires it)')
    .argument('<user_id>', 'the person', idArgument('user'))
    .addOption(orgOption())
    .addOption(jsonOption('print the person, as DELETE /v1/users/{id}/mfa answers'))
    .addHelpText('after', example('scope-auth users reset-mfa usr_01J... --org org_01J...'))
    .action(async (userId: string, options: { org: string; json?: boolean }) => {
      const out = outputFor(io);
      const person = await withSession(io, async (session) => resetSecondFactor(session.deps, await session.actorIn(options.org), { userId }));
      if (options.json) return out.json(renderPerson(person));
      out.line(`Removed the second factor of ${person.email} (${person.id}); they can enrol a new one.`);
    });

  users
    .command('delete')
    .description('Delete a person for good: their sessions end; the audit log keeps their id')
    .argument('<user_id>', 'the person', idArgument('user'))
    .addOption(orgOption())
    .addOption(forceOwnerOption())
    .addOption(jsonOption('print {"id", "deleted": true} (the API answers 204 with no body)'))
    .addHelpText('after', example('scope-auth users delete usr_01J... --org org_01J...'))
    .action(async (userId: string, options: { org: string; force?: boolean; json?: boolean }) => {
      const out = outputFor(io);
      await withSession(io, async (session) => deleteUser(session.deps, await session.actorIn(options.org), { userId, force: options.force === true }));
      if (options.json) return out.json({ id: userId, deleted: true });
      out.line(`Deleted ${userId}; their sessions have ended.`);
    });
}
