// Seeds a benchmark database directly, through the domain and store functions.
//
// A real argon2id hash costs ~25 ms of CPU, so hashing 100,000 secrets would take longer
// than the whole benchmark. The cost of verifying does not depend on which secret is
// hashed, only on the parameters in the PHC string. So every seeded key shares one secret:
// prepareKey hashes it once (with the server's own argon2 parameters) and the other rows
// are copies of that row with ids of their own. A cold exchange of any key still runs a
// full argon2 verification, because the verified-credential cache is keyed by key id.
import { createArgon2Hasher, type Argon2Params } from '../../src/domain/hashing.js';
import { newId } from '../../src/domain/credentials.js';
import { prepareKey } from '../../src/domain/keys.js';
import type { ApiKeyRow } from '../../src/store/api-keys.js';
import { insertApp } from '../../src/store/apps.js';
import type { Db } from '../../src/store/database.js';
import { insertOrg } from '../../src/store/orgs.js';
import type { UserRow } from '../../src/store/users.js';

/** The scopes of the benchmark app: expanded, they give a token like a typical client's. */
export const BENCH_SCOPES = ['agents:edit', 'runtime:run', 'tools:deploy'];

/** No lookup digest: the keys share one secret, which a leak report would find in all of them. */
const noDigest = () => null;

/**
 * The benchmark apps' IP allow-list: a few networks of both families, loopback (where the
 * load comes from: 127.0.0.0/8, every flood address included) last, so every exchange runs
 * the address check as an app with a list does.
 */
export const BENCH_ALLOWED_IPS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '203.0.113.0/24', '2001:db8::/32', 'fd00::/8', '198.51.100.7', '::1', '127.0.0.0/8'];

export interface Seeded {
  readonly orgId: string;
  readonly appIds: readonly string[];
  /** The one secret every seeded key has. */
  readonly secret: string;
  /** Its argon2id PHC string, for the bare argon2 baseline. */
  readonly secretHash: string;
  /** Keys never exchanged yet: the cold exchanges, then the warm working set. */
  readonly workingKeys: readonly string[];
  /** A key for obtaining the token the verifier figures use (kept out of the working set). */
  readonly tokenKey: string;
  /** Active people of the org, each with `password` (the sign-in figure). */
  readonly people: { readonly emails: readonly string[]; readonly password: string; readonly passwordHash: string };
}

const PEOPLE = 50;

/**
 * People who sign in, all with one password hashed once with the server's parameters (as the
 * keys share one secret): a sign-in verifies it with argon2 every time, whoever signs in.
 */
async function seedPeople(db: Db, argon2: Argon2Params, orgId: string, now: number): Promise<Seeded['people']> {
  const password = 'bench sign-in passphrase, long enough';
  const passwordHash = await createArgon2Hasher(argon2).hash(password);
  const rows: UserRow[] = Array.from({ length: PEOPLE }, (_, i) => ({
    id: newId('user', now),
    org_id: orgId,
    email: `person${i}@bench.example`,
    email_key: `person${i}@bench.example`,
    name: `Person ${i}`,
    role: 'viewer',
    status: 'active',
    password_hash: passwordHash,
    created_at: now,
    created_by: 'cli',
    updated_at: now,
    last_sign_in_at: null,
    totp_secret_encrypted: null,
    totp_last_step: null,
    mfa_enabled_at: null,
  }));
  await db.insertInto('users').values(rows).execute();
  return { emails: rows.map((r) => r.email), password, passwordHash };
}

const YEAR_MS = 365 * 86_400_000;
const APPS = 10;
const CHUNK = 500;

/**
 * Ids carry their creation time (ULID), so keys created over a year interleave in the
 * primary-key index: the working set is spread among all the other keys, as in a real
 * installation, rather than clustered at one end.
 */
function keyRow(template: ApiKeyRow, appIds: readonly string[], now: number, i: number): ApiKeyRow {
  const createdAt = now - Math.floor(Math.random() * YEAR_MS);
  return {
    ...template,
    id: newId('key', createdAt),
    app_id: appIds[i % appIds.length]!,
    name: `bench key ${i}`,
    created_at: createdAt,
    last_used_at: null,
    last_used_ip: null,
    use_count: 0,
  };
}

async function insertKeys(db: Db, rows: readonly ApiKeyRow[]): Promise<void> {
  // Many rows per statement: 100,000 single-row inserts take minutes on PostgreSQL.
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db.insertInto('api_keys').values(rows.slice(i, i + CHUNK)).execute();
  }
}

/** An org, its apps and `total` keys, of which `working` are returned as never exchanged. */
export async function seedDatabase(db: Db, argon2: Argon2Params, options: { total: number; working: number }): Promise<Seeded> {
  const now = Date.now();
  const orgId = newId('org', now);
  await insertOrg(db, { id: orgId, name: 'bench', is_root: 0, created_at: now, created_by: 'cli', allowed_scopes: null, disabled_at: null, require_mfa: 0, auto_revoke_unused_days: null });
  const appIds: string[] = [];
  for (let i = 0; i < APPS; i++) {
    const id = newId('app', now);
    await insertApp(db, {
      id,
      org_id: orgId,
      name: `bench app ${i}`,
      description: '',
      scopes: BENCH_SCOPES,
      audience: null,
      token_ttl_seconds: null,
      created_at: now,
      created_by: 'cli',
      updated_at: now,
      deleted_at: null,
      allowed_ips: BENCH_ALLOWED_IPS,
    });
    appIds.push(id);
  }
  const { row: template, secret } = await prepareKey({ hasher: createArgon2Hasher(argon2), secretDigest: noDigest }, now, {
    orgId,
    appId: appIds[0]!,
    name: 'bench key',
    expiresAt: null,
    actor: 'cli',
  });
  const rows = Array.from({ length: options.total }, (_, i) => keyRow(template, appIds, now, i));
  await insertKeys(db, rows);
  return {
    orgId,
    appIds,
    secret,
    secretHash: template.secret_hash,
    workingKeys: rows.slice(0, options.working).map((r) => r.id),
    tokenKey: rows[options.working]!.id,
    people: await seedPeople(db, argon2, orgId, now),
  };
}

/** Adds keys (same secret) until the database holds `total`. */
export async function growKeys(db: Db, seeded: Seeded, total: number): Promise<number> {
  const { count } = await db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  const existing = Number(count);
  const template = await db.selectFrom('api_keys').selectAll().where('id', '=', seeded.tokenKey).executeTakeFirstOrThrow();
  const now = Date.now();
  const rows = Array.from({ length: Math.max(0, total - existing) }, (_, i) => keyRow(template, seeded.appIds, now, existing + i));
  await insertKeys(db, rows);
  return existing + rows.length;
}
