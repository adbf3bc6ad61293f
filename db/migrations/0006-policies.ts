import type { Kysely } from 'kysely';

// Key policies and leak response. Every new column is nullable (or has a default), so every
// existing org, app and key keeps today's behaviour without a data step:
// - a key's own scopes and IP list narrow its app's (NULL: the app's, unchanged);
// - an app's IP list (NULL: any address);
// - a key's secret_digest finds it from its secret alone when a leak is reported (NULL for
//   keys created before this migration: they cannot be found that way);
// - an org's auto_revoke_unused_days (NULL: off) and the times reminders were sent;
// - webhooks, their outbox of deliveries (written in the transaction of the change), and
//   leases, which let one instance at a time run a background job on a shared database.
export async function up(db: Kysely<unknown>): Promise<void> {
  // JSON array of scope names within the app's grant, or NULL: whatever the app grants.
  await db.schema.alterTable('api_keys').addColumn('scopes', 'text').execute();
  // JSON array of addresses and CIDR ranges within the app's list, or NULL: the app's.
  await db.schema.alterTable('api_keys').addColumn('allowed_ips', 'text').execute();
  // Hex HMAC-SHA256 of the secret under a key derived from the KEK (domain/secret-digest.ts).
  await db.schema.alterTable('api_keys').addColumn('secret_digest', 'text').execute();
  // When the key's "expires within 7 days" / "expired" / "about to be revoked as unused" event was emitted.
  await db.schema.alterTable('api_keys').addColumn('expiring_notified_at', 'bigint').execute();
  await db.schema.alterTable('api_keys').addColumn('expired_notified_at', 'bigint').execute();
  await db.schema.alterTable('api_keys').addColumn('unused_notified_at', 'bigint').execute();
  await db.schema.createIndex('api_keys_secret_digest').on('api_keys').column('secret_digest').execute();

  // JSON array of addresses and CIDR ranges, or NULL: exchanges from any address.
  await db.schema.alterTable('apps').addColumn('allowed_ips', 'text').execute();

  await db.schema.alterTable('orgs').addColumn('auto_revoke_unused_days', 'integer').execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id'))
    .addColumn('url', 'text', (c) => c.notNull())
    // JSON array of event types.
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    // The signing secret (whsec_…), AES-256-GCM under the KEK: deliveries must sign with it.
    .addColumn('secret_encrypted', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('disabled_at', 'bigint')
    .execute();
  await db.schema.createIndex('webhooks_org_id').on('webhooks').columns(['org_id', 'id']).execute();

  // The outbox: one row per (event, webhook), inserted in the transaction of the change.
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('org_id', 'text', (c) => c.notNull())
    // The webhook-id header: the same for every attempt of one delivery.
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    // The JSON body sent.
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // pending | delivered | failed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('last_status_code', 'integer')
    // At most 1 KiB of the last response's body.
    .addColumn('last_response', 'text')
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', 'bigint')
    .execute();
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();

  // A named background job's current runner: taken when absent or expired, renewed by its holder.
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['leases', 'webhook_deliveries', 'webhooks']) await db.schema.dropTable(table).execute();
  await db.schema.alterTable('orgs').dropColumn('auto_revoke_unused_days').execute();
  await db.schema.alterTable('apps').dropColumn('allowed_ips').execute();
  await db.schema.dropIndex('api_keys_secret_digest').execute();
  for (const column of ['unused_notified_at', 'expired_notified_at', 'expiring_notified_at', 'secret_digest', 'allowed_ips', 'scopes']) {
    await db.schema.alterTable('api_keys').dropColumn(column).execute();
  }
}
