// /v1/keys: every key of the caller's org (filters status, app_id, unused_days), one key,
// and the only ways a key changes: revoke, roll, delete.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AdminDeps } from '../domain/actor.js';
import { KEY_STATUSES } from '../domain/key-status.js';
import { deleteKey, getKey, listKeys, revokeKey, rollKey, ROLL_GRACE_MAX_SECONDS, UNUSED_DAYS_MAX } from '../domain/keys.js';
import { adminActor, idParam, isoTimeInput, jsonBody, pageQueryShape, parseInput, queryInt } from '../http/admin-request.js';
import { requireScope } from '../http/bearer-auth.js';
import { renderKey, renderPage } from '../http/render.js';
import { noStore } from '../http/request-context.js';

export const keyPath = z.strictObject({ key_id: idParam('key', 'a key') });
export const listKeysQuery = z.strictObject({
  ...pageQueryShape,
  status: z.enum(KEY_STATUSES).optional(),
  app_id: idParam('app', 'an app').optional(),
  unused_days: queryInt(1, UNUSED_DAYS_MAX).optional(),
});
export const revokeBody = z.strictObject({
  reason: z.string().max(500, { message: 'expected at most 500 characters' }).nullable().optional(),
});
export const rollBody = z.strictObject({
  grace_seconds: z
    .number({ message: `expected a whole number of seconds from 0 to ${ROLL_GRACE_MAX_SECONDS} (30 days)` })
    .int({ message: 'expected a whole number' })
    .min(0, { message: `expected 0 to ${ROLL_GRACE_MAX_SECONDS} seconds (30 days)` })
    .max(ROLL_GRACE_MAX_SECONDS, { message: `expected 0 to ${ROLL_GRACE_MAX_SECONDS} seconds (30 days)` }),
  expires_at: isoTimeInput.nullable().optional(),
});

export function keysRoutes(deps: { admin: AdminDeps; auth: RequestHandler }): Router {
  const { admin, auth } = deps;
  const router = Router();
  router.use('/v1/keys', auth, noStore);

  router.get('/v1/keys', requireScope('admin.apps:view'), async (req, res) => {
    const query = parseInput(listKeysQuery, req.query, 'query');
    const page = await listKeys(admin, adminActor(req, res), {
      limit: query.limit,
      cursor: query.cursor ?? null,
      ...(query.app_id === undefined ? {} : { appId: query.app_id }),
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.unused_days === undefined ? {} : { unusedDays: query.unused_days }),
    });
    res.json(renderPage(page, renderKey));
  });

  router.get('/v1/keys/:key_id', requireScope('admin.apps:view'), async (req, res) => {
    const { key_id } = parseInput(keyPath, req.params, 'path');
    res.json(renderKey(await getKey(admin, adminActor(req, res), { keyId: key_id })));
  });

  router.post('/v1/keys/:key_id/revoke', requireScope('admin.apps:edit'), jsonBody(), async (req, res) => {
    const { key_id } = parseInput(keyPath, req.params, 'path');
    const body = parseInput(revokeBody, req.body, 'body');
    res.json(renderKey(await revokeKey(admin, adminActor(req, res), { keyId: key_id, reason: body.reason ?? null })));
  });

  router.post('/v1/keys/:key_id/roll', requireScope('admin.apps:edit'), jsonBody(), async (req, res) => {
    const { key_id } = parseInput(keyPath, req.params, 'path');
    const body = parseInput(rollBody, req.body, 'body');
    const rolled = await rollKey(admin, adminActor(req, res), {
      keyId: key_id,
      graceSeconds: body.grace_seconds,
      ...(body.expires_at === undefined ? {} : { expiresAt: body.expires_at }),
    });
    res.status(201).location(`/v1/keys/${rolled.key.id}`).json({ key: renderKey(rolled.key), secret: rolled.secret });
  });

  router.delete('/v1/keys/:key_id', requireScope('admin.apps:edit'), async (req, res) => {
    const { key_id } = parseInput(keyPath, req.params, 'path');
    await deleteKey(admin, adminActor(req, res), { keyId: key_id });
    res.status(204).end();
  });

  return router;
}
