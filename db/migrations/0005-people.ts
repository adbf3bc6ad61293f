import type { Kysely } from 'kysely';

// People: named admins of one org who sign in with an email and a password (and, later, a
// second factor), their one-time links (invitations, password resets) and their sessions.
// Every column the second factor needs is here already, nullable, so it needs no migration
// of its own: a TOTP secret (encrypted like the signing keys), the last time step used (no
// replay), the recovery codes (hashed), an org's require_mfa, and a session limited to
// enrolment. Nothing existing changes: no person exists until one is invited.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
    // As given; email_key (trimmed, lower case) is what is compared, unique in the deployment.
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_key', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    // argon2id PHC string; null until the invitation is accepted.
    .addColumn('password_hash', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_sign_in_at', 'bigint')
    .addColumn('totp_secret_encrypted', 'text')
    .addColumn('totp_last_step', 'bigint')
    .addColumn('mfa_enabled_at', 'bigint')
    .execute();
  await db.schema.createIndex('users_org_id').on('users').columns(['org_id', 'id']).execute();

  await db.schema
    .createTable('recovery_codes')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
    .execute();

  // Invitation and password-reset links: only the SHA-256 of the token is kept, and a row is
  // deleted when it is used. user_id is null for the first start's open invitation of the
  // root org's first owner, whose email is given when it is accepted.
  await db.schema
    .createTable('user_links')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
    .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('user_links_user_id').on('user_links').column('user_id').execute();

  // Sessions: the cookie carries a random 256-bit value, only its SHA-256 is stored.
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    // Null for a full session; the second factor's enrolment-only sessions name what they may do.
    .addColumn('restricted_to', 'text')
    .execute();
  await db.schema.createIndex('sessions_user_id').on('sessions').columns(['user_id', 'id']).execute();
  await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();

  await db.schema.alterTable('orgs').addColumn('require_mfa', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('orgs').dropColumn('require_mfa').execute();
  for (const table of ['sessions', 'user_links', 'recovery_codes', 'users']) await db.schema.dropTable(table).execute();
}
