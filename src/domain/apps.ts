// Admin use cases for apps. Every store call is scoped by the actor's org, so an id of
// another org is simply not found (404), never "forbidden".
import { InvalidRequestError, NotFoundError } from '../errors.js';
import * as store from '../store/apps.js';
import type { AppRecord } from '../store/apps.js';
import { getOrg } from '../store/orgs.js';
import { requireActorScope, type Actor, type AdminDeps } from './actor.js';
import { actorNames, type ActorNames } from './actor-names.js';
import { recordActorAudit } from './audit.js';
import { newId } from './credentials.js';
import { checkWithinAllowance } from './allowances.js';
import { checkAppAudience, type AudiencePolicy } from './audiences.js';
import { checkGrant } from './grants.js';
import { checkAllowedIps } from './ip-allow-lists.js';
import { forcedDetails, guardLastRootAdmin, holdsRootAdmin } from './last-root-admin.js';
import { requireGrantWithinCaller, requireWithinCaller } from './least-privilege.js';
import { pageQuery, toPage, type Page, type PageInput } from './pagination.js';

/** An app with its granted scopes expanded through the catalogue, and its creator's name. */
export interface AppView extends AppRecord {
  readonly effective_scopes: string[];
  readonly created_by_name: string | null;
}

export interface CreateAppInput {
  readonly name: string;
  readonly scopes: readonly string[];
  readonly description?: string;
  /** Null or absent: the server's SCOPE_AUTH_AUDIENCE. */
  readonly audience?: string | null;
  /** Null or absent: SCOPE_AUTH_TOKEN_TTL. */
  readonly tokenTtlSeconds?: number | null;
  /** Where its keys' exchanges may come from (ip-allow-lists.ts); null or absent: any address. */
  readonly allowedIps?: readonly string[] | null;
}

export type UpdateAppInput = { readonly appId: string } & Partial<CreateAppInput> & Forceable;

/** For the operator CLI's --force: make a change even if it removes the root org's last admin (last-root-admin.ts). */
export interface Forceable {
  readonly force?: boolean;
}

export const NAME_MAX = 100;
export const DESCRIPTION_MAX = 1000;

export function appNotFound(appId: string): NotFoundError {
  return new NotFoundError(`no app ${appId} in this organization`);
}

/** Names are 1–100 characters after trimming, without control characters. */
export function checkName(field: string, name: string): string {
  const trimmed = name.trim();
  // eslint-disable-next-line no-control-regex
  if (trimmed.length < 1 || trimmed.length > NAME_MAX || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new InvalidRequestError(`${field}: expected 1 to ${NAME_MAX} characters without control characters`);
  }
  return trimmed;
}

function checkDescription(description: string): string {
  if (description.length > DESCRIPTION_MAX) throw new InvalidRequestError(`description: expected at most ${DESCRIPTION_MAX} characters`);
  return description;
}

function audiencePolicy(deps: AdminDeps): AudiencePolicy {
  return { catalog: deps.catalog, defaultAudience: deps.config.audience };
}

function checkTtl(deps: AdminDeps, ttl: number | null): number | null {
  const { tokenTtlMinSeconds: min, tokenTtlMaxSeconds: max } = deps.config;
  if (ttl !== null && (!Number.isInteger(ttl) || ttl < min || ttl > max)) {
    throw new InvalidRequestError(`token_ttl_seconds: expected a whole number from ${min} to ${max}, or null`);
  }
  return ttl;
}

export function toAppView(deps: Pick<AdminDeps, 'catalog'>, app: AppRecord, names: ActorNames): AppView {
  return { ...app, effective_scopes: deps.catalog.expand(app.scopes), created_by_name: names(app.created_by) };
}

/** toAppView, with its creator's name looked up. */
export async function appView(deps: Pick<AdminDeps, 'catalog' | 'db'>, app: AppRecord): Promise<AppView> {
  return toAppView(deps, app, await actorNames(deps.db, [app.created_by]));
}

/**
 * The scopes an app of the actor's org gets (`current`: what it holds now): catalogue scopes
 * (grants.ts) within the org's allowance (allowances.ts); what the actor may grant is the
 * caller's rule (least-privilege.ts).
 */
async function checkAppScopes(deps: AdminDeps, actor: Actor, scopes: readonly string[], current?: readonly string[]): Promise<string[]> {
  const org = await getOrg(deps.db, actor.orgId);
  if (!org) throw new NotFoundError(`no organization ${actor.orgId}`);
  const checked = checkGrant(deps.catalog, { scopes, orgIsRoot: org.is_root === 1 });
  checkWithinAllowance(deps.catalog, org.allowed_scopes, { scopes: checked, ...(current === undefined ? {} : { current }) });
  return checked;
}

/** An app's IP allow-list as stored, normalized; null: any address. */
function checkAppAllowedIps(list: readonly string[] | null): string[] | null {
  return list === null ? null : checkAllowedIps('allowed_ips', list);
}

/** A live app of the actor's org, or NotFoundError. */
export async function findApp(deps: Pick<AdminDeps, 'db'>, actor: Actor, appId: string): Promise<AppRecord> {
  const app = await store.getApp(deps.db, actor.orgId, appId);
  if (!app) throw appNotFound(appId);
  return app;
}

export interface ListAppsInput extends PageInput {
  /** Only apps whose name holds this text, in any case. */
  readonly name?: string;
}

export async function listApps(deps: AdminDeps, actor: Actor, input: ListAppsInput = {}): Promise<Page<AppView>> {
  requireActorScope(actor, 'admin.apps:view');
  const query = pageQuery(input);
  if (input.name !== undefined && (input.name.length < 1 || input.name.length > NAME_MAX)) {
    throw new InvalidRequestError(`name: expected 1 to ${NAME_MAX} characters`);
  }
  const filter = input.name === undefined ? {} : { nameContains: input.name };
  const rows = await store.listApps(deps.db, actor.orgId, { limit: query.limit + 1, before: query.before }, filter);
  const names = await actorNames(deps.db, rows.map((app) => app.created_by));
  return toPage(rows, query, (app) => toAppView(deps, app, names));
}

export async function getApp(deps: AdminDeps, actor: Actor, input: { appId: string }): Promise<AppView> {
  requireActorScope(actor, 'admin.apps:view');
  return appView(deps, await findApp(deps, actor, input.appId));
}

export async function createApp(deps: AdminDeps, actor: Actor, input: CreateAppInput): Promise<AppView> {
  requireActorScope(actor, 'admin.apps:full');
  const name = checkName('name', input.name);
  const description = checkDescription(input.description ?? '');
  const audience = checkAppAudience(audiencePolicy(deps), input.audience ?? null);
  const ttl = checkTtl(deps, input.tokenTtlSeconds ?? null);
  const allowedIps = checkAppAllowedIps(input.allowedIps ?? null);
  const scopes = await checkAppScopes(deps, actor, input.scopes);
  requireGrantWithinCaller(deps.catalog, actor, scopes);
  const now = deps.clock.now();
  const app: AppRecord = {
    id: newId('app', now),
    org_id: actor.orgId,
    name,
    description,
    scopes,
    audience,
    token_ttl_seconds: ttl,
    created_at: now,
    created_by: actor.id,
    updated_at: now,
    deleted_at: null,
    allowed_ips: allowedIps,
  };
  await deps.db.transaction().execute(async (trx) => {
    await store.insertApp(trx, app);
    await recordActorAudit(trx, deps.clock, actor, {
      action: 'app.created',
      targetType: 'app',
      targetId: app.id,
      details: { name, scopes, description, audience, token_ttl_seconds: ttl, ...(allowedIps === null ? {} : { allowed_ips: allowedIps }) },
    });
  });
  return appView(deps, app);
}

/**
 * Changes take effect at the next exchange of each of the app's keys. Only an admin holding
 * the app's admin power changes it at all, and re-scoping grants nothing the admin lacks.
 */
export async function updateApp(deps: AdminDeps, actor: Actor, input: UpdateAppInput): Promise<AppView> {
  requireActorScope(actor, 'admin.apps:edit');
  const current = await findApp(deps, actor, input.appId);
  requireWithinCaller(deps.catalog, actor, current.scopes);
  const changes: store.AppChanges = { updated_at: deps.clock.now() };
  if (input.name !== undefined) changes.name = checkName('name', input.name);
  if (input.description !== undefined) changes.description = checkDescription(input.description);
  // An audience no longer allowed stays while untouched; naming it again is refused.
  if (input.audience !== undefined) changes.audience = checkAppAudience(audiencePolicy(deps), input.audience);
  if (input.tokenTtlSeconds !== undefined) changes.token_ttl_seconds = checkTtl(deps, input.tokenTtlSeconds);
  // Applies from each key's next exchange; a key's own list stays, and both must allow the address.
  if (input.allowedIps !== undefined) changes.allowed_ips = checkAppAllowedIps(input.allowedIps);
  if (input.scopes !== undefined) {
    changes.scopes = await checkAppScopes(deps, actor, input.scopes, current.scopes);
    requireGrantWithinCaller(deps.catalog, actor, changes.scopes);
  }
  // Only what actually changes goes into the audit event, with its previous value.
  const diff: Record<string, { from: unknown; to: unknown }> = {};
  for (const field of ['name', 'description', 'scopes', 'audience', 'token_ttl_seconds', 'allowed_ips'] as const) {
    const to = changes[field];
    if (to !== undefined && JSON.stringify(to) !== JSON.stringify(current[field])) diff[field] = { from: current[field], to };
  }
  // Nothing to change: no write, no event, updated_at stays.
  if (Object.keys(diff).length === 0) return appView(deps, current);
  // New scopes without admin.orgs:full may take away the root org's last admin.
  const demotes = changes.scopes !== undefined && diff['scopes'] !== undefined && !holdsRootAdmin(deps.catalog, changes.scopes);
  const updated = await deps.db.transaction().execute(async (trx) => {
    const guard = demotes ? await guardLastRootAdmin(trx, deps, actor, { appId: current.id }, input) : { forced: false };
    const app = await store.updateApp(trx, actor.orgId, input.appId, changes);
    if (!app) throw appNotFound(input.appId);
    await recordActorAudit(trx, deps.clock, actor, {
      action: 'app.updated',
      targetType: 'app',
      targetId: app.id,
      details: { changes: diff, ...forcedDetails(guard) },
    });
    return app;
  });
  return appView(deps, updated);
}

/** Soft delete: the app and its keys answer 404 from now on, and its keys stop working at once. */
export async function deleteApp(deps: AdminDeps, actor: Actor, input: { appId: string } & Forceable): Promise<void> {
  requireActorScope(actor, 'admin.apps:full');
  const current = await findApp(deps, actor, input.appId);
  requireWithinCaller(deps.catalog, actor, current.scopes);
  await deps.db.transaction().execute(async (trx) => {
    const guard = await guardLastRootAdmin(trx, deps, actor, { appId: current.id }, input);
    if (!(await store.softDeleteApp(trx, actor.orgId, input.appId, deps.clock.now()))) throw appNotFound(input.appId);
    await recordActorAudit(trx, deps.clock, actor, {
      action: 'app.deleted',
      targetType: 'app',
      targetId: current.id,
      details: { name: current.name, ...forcedDetails(guard) },
    });
  });
}
