import type { Kysely } from 'kysely';

// Org allowances and disabling. Both columns are nullable so every existing org keeps
// today's behaviour without a data step: allowed_scopes NULL means every scope of the
// catalogue (a list cannot be written here, the catalogue is the server's, not the
// database's), disabled_at NULL means enabled.
export async function up(db: Kysely<unknown>): Promise<void> {
  // JSON array of catalogue scope names, or NULL: every non-admin scope of the catalogue.
  await db.schema.alterTable('orgs').addColumn('allowed_scopes', 'text').execute();
  await db.schema.alterTable('orgs').addColumn('disabled_at', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('orgs').dropColumn('disabled_at').execute();
  await db.schema.alterTable('orgs').dropColumn('allowed_scopes').execute();
}
