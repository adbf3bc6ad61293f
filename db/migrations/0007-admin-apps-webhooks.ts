import type { Kysely } from 'kysely';

// Every role now holds a webhook scope (viewers and editors admin.webhooks:view, owners
// admin.webhooks:full), and inviting or changing a person takes every scope of their role.
// An app made before webhooks existed, that may administer people (admin.users:full), would
// lose that power; so it is given the webhook scope that keeps it where it stood:
// admin.webhooks:full when it also holds admin.apps:full (everything an owner held), else
// admin.webhooks:view. New orgs' `admin` apps hold every built-in scope already. Only the
// stored grant changes: a key's own scopes (none before 0006) and org allowances (which
// never cover admin scopes) are untouched.
const PEOPLE = 'admin.users:full';

/** The columns of apps this step reads and writes, as they are at this version. */
interface Tables {
  apps: { id: string; scopes: string; updated_at: number };
}

export async function up(schemaless: Kysely<unknown>): Promise<void> {
  const db = schemaless as unknown as Kysely<Tables>;
  const apps = await db.selectFrom('apps').select(['id', 'scopes']).where('scopes', 'like', `%"${PEOPLE}"%`).execute();
  const now = Date.now();
  for (const app of apps) {
    const scopes = JSON.parse(app.scopes) as string[];
    if (!scopes.includes(PEOPLE) || scopes.some((s) => s.startsWith('admin.webhooks:'))) continue;
    const added = scopes.includes('admin.apps:full') ? 'admin.webhooks:full' : 'admin.webhooks:view';
    await db
      .updateTable('apps')
      .set({ scopes: JSON.stringify([...scopes, added]), updated_at: now })
      .where('id', '=', app.id)
      .execute();
  }
}

/** The grants keep the webhook scope: which apps had it before cannot be told apart afterwards. */
export async function down(): Promise<void> {}
