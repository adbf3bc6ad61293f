// /v1/apps: list, create, read, change and delete apps; /v1/apps/{app_id}/keys: the keys of
// one app. The tenant is the caller's token's org, so a foreign id is a 404.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AdminDeps } from '../domain/actor.js';
import { createApp, deleteApp, getApp, listApps, updateApp, type UpdateAppInput } from '../domain/apps.js';
import { SCOPE_NAME_MAX, SCOPES_MAX } from '../domain/grants.js';
import { ALLOWED_IPS_MAX } from '../domain/ip-allow-lists.js';
import { createKey, listKeys } from '../domain/keys.js';
import { KEY_STATUSES } from '../domain/key-status.js';
import { adminActor, idParam, isoTimeInput, jsonBody, nameInput, pageQueryShape, parseInput, queryInt } from '../http/admin-request.js';
import { requireScope } from '../http/bearer-auth.js';
import { renderApp, renderKey, renderPage } from '../http/render.js';
import { noStore } from '../http/request-context.js';

export const appPath = z.strictObject({ app_id: idParam('app', 'an app') });

const scopeList = z
  .array(z.string().min(1).max(SCOPE_NAME_MAX, { message: `expected at most ${SCOPE_NAME_MAX} characters` }))
  .max(SCOPES_MAX, { message: `expected at most ${SCOPES_MAX} scopes` });

/** The domain checks and normalizes each entry (ip-allow-lists.ts); this bounds the body. */
const ipList = z
  .array(z.string().max(100, { message: 'expected an address or CIDR range' }))
  .max(ALLOWED_IPS_MAX, { message: `expected at most ${ALLOWED_IPS_MAX} addresses or ranges` });

function appFields(ttlMax: number) {
  return {
    scopes: scopeList,
    description: z.string().max(1000, { message: 'expected at most 1000 characters' }),
    audience: z.string().trim().min(1, { message: 'expected a non-empty string' }).max(200, { message: 'expected at most 200 characters' }).nullable(),
    token_ttl_seconds: z
      .number()
      .int({ message: 'expected a whole number' })
      .min(60, { message: `expected 60 to ${ttlMax} seconds` })
      .max(ttlMax, { message: `expected 60 to ${ttlMax} seconds` })
      .nullable(),
    allowed_ips: ipList
      .nullable()
      .describe('IPv4/IPv6 addresses and CIDR ranges (1 to 100) its keys may exchange from; null: any address. Stored normalized; an empty list is refused.'),
  };
}

/** The requests of /v1/apps, for the routes and the OpenAPI document; the TTL bound is SCOPE_AUTH_TOKEN_TTL_MAX. */
export function appsSchemas(ttlMax: number) {
  const fields = appFields(ttlMax);
  const createBody = z.strictObject({
    name: nameInput,
    scopes: fields.scopes,
    description: fields.description.optional(),
    audience: fields.audience.optional(),
    token_ttl_seconds: fields.token_ttl_seconds.optional(),
    allowed_ips: fields.allowed_ips.optional(),
  });
  const updateBody = createBody
    .partial()
    .refine((body) => Object.keys(body).length > 0, { message: 'expected at least one of name, scopes, description, audience, token_ttl_seconds, allowed_ips' });
  const listQuery = z.strictObject({ ...pageQueryShape, name: z.string().min(1).max(100, { message: 'expected at most 100 characters' }).optional() });
  const keysQuery = z.strictObject({
    ...pageQueryShape,
    status: z.enum(KEY_STATUSES).optional(),
    unused_days: queryInt(1, 36_500).optional(),
  });
  const createKeyBody = z.strictObject({
    name: nameInput,
    expires_at: isoTimeInput.nullable().optional(),
    scopes: scopeList
      .nullable()
      .optional()
      .describe("The key's own scopes, fixed for its life: a subset of the app's grant (implications included). Its tokens carry the app's grant ∩ the org allowance ∩ these. Absent or null: whatever the app grants."),
    allowed_ips: ipList
      .nullable()
      .optional()
      .describe("Addresses and CIDR ranges the key's exchanges may come from, each within the app's allowed_ips when it has one. Absent or null: the app's list."),
  });
  return { appPath, createBody, updateBody, listQuery, keysQuery, createKeyBody };
}

export function appsRoutes(deps: { admin: AdminDeps; auth: RequestHandler }): Router {
  const { admin, auth } = deps;
  const { createBody, updateBody, listQuery, keysQuery, createKeyBody } = appsSchemas(admin.config.tokenTtlMaxSeconds);

  const router = Router();
  router.use('/v1/apps', auth, noStore);

  router.get('/v1/apps', requireScope('admin.apps:view'), async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    const page = await listApps(admin, adminActor(req, res), {
      limit: query.limit,
      cursor: query.cursor ?? null,
      ...(query.name === undefined ? {} : { name: query.name }),
    });
    res.json(renderPage(page, renderApp));
  });

  router.post('/v1/apps', requireScope('admin.apps:full'), jsonBody(), async (req, res) => {
    const body = parseInput(createBody, req.body, 'body');
    const app = await createApp(admin, adminActor(req, res), {
      name: body.name,
      scopes: body.scopes,
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.audience === undefined ? {} : { audience: body.audience }),
      ...(body.token_ttl_seconds === undefined ? {} : { tokenTtlSeconds: body.token_ttl_seconds }),
      ...(body.allowed_ips === undefined ? {} : { allowedIps: body.allowed_ips }),
    });
    res.status(201).location(`/v1/apps/${app.id}`).json(renderApp(app));
  });

  router.get('/v1/apps/:app_id', requireScope('admin.apps:view'), async (req, res) => {
    const { app_id } = parseInput(appPath, req.params, 'path');
    res.json(renderApp(await getApp(admin, adminActor(req, res), { appId: app_id })));
  });

  router.patch('/v1/apps/:app_id', requireScope('admin.apps:edit'), jsonBody(), async (req, res) => {
    const { app_id } = parseInput(appPath, req.params, 'path');
    const body = parseInput(updateBody, req.body, 'body');
    const input: UpdateAppInput = {
      appId: app_id,
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.scopes === undefined ? {} : { scopes: body.scopes }),
      ...(body.description === undefined ? {} : { description: body.description }),
      ...(body.audience === undefined ? {} : { audience: body.audience }),
      ...(body.token_ttl_seconds === undefined ? {} : { tokenTtlSeconds: body.token_ttl_seconds }),
      ...(body.allowed_ips === undefined ? {} : { allowedIps: body.allowed_ips }),
    };
    res.json(renderApp(await updateApp(admin, adminActor(req, res), input)));
  });

  router.delete('/v1/apps/:app_id', requireScope('admin.apps:full'), async (req, res) => {
    const { app_id } = parseInput(appPath, req.params, 'path');
    await deleteApp(admin, adminActor(req, res), { appId: app_id });
    res.status(204).end();
  });

  router.get('/v1/apps/:app_id/keys', requireScope('admin.apps:view'), async (req, res) => {
    const { app_id } = parseInput(appPath, req.params, 'path');
    const query = parseInput(keysQuery, req.query, 'query');
    const page = await listKeys(admin, adminActor(req, res), {
      appId: app_id,
      limit: query.limit,
      cursor: query.cursor ?? null,
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.unused_days === undefined ? {} : { unusedDays: query.unused_days }),
    });
    res.json(renderPage(page, renderKey));
  });

  router.post('/v1/apps/:app_id/keys', requireScope('admin.apps:edit'), jsonBody(), async (req, res) => {
    const { app_id } = parseInput(appPath, req.params, 'path');
    const body = parseInput(createKeyBody, req.body, 'body');
    const created = await createKey(admin, adminActor(req, res), {
      appId: app_id,
      name: body.name,
      ...(body.expires_at === undefined ? {} : { expiresAt: body.expires_at }),
      ...(body.scopes === undefined ? {} : { scopes: body.scopes }),
      ...(body.allowed_ips === undefined ? {} : { allowedIps: body.allowed_ips }),
    });
    res.status(201).location(`/v1/keys/${created.key.id}`).json({ key: renderKey(created.key), secret: created.secret });
  });

  return router;
}
