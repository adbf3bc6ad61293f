// GET /v1/audit: the caller's org's audit log, newest first.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AdminDeps } from '../domain/actor.js';
import { listAuditEvents } from '../domain/audit.js';
import { adminActor, pageQueryShape, parseInput } from '../http/admin-request.js';
import { requireScope } from '../http/bearer-auth.js';
import { renderAuditEvent, renderPage } from '../http/render.js';
import { noStore } from '../http/request-context.js';

export const auditQuery = z.strictObject({
  ...pageQueryShape,
  action: z.string().min(1).max(100).optional(),
  target_id: z.string().min(1).max(100).optional(),
});

export function auditRoutes(deps: { admin: AdminDeps; auth: RequestHandler }): Router {
  const router = Router();
  router.get('/v1/audit', deps.auth, noStore, requireScope('admin.audit:view'), async (req, res) => {
    const query = parseInput(auditQuery, req.query, 'query');
    const page = await listAuditEvents(deps.admin, adminActor(req, res), {
      limit: query.limit,
      cursor: query.cursor ?? null,
      ...(query.action === undefined ? {} : { action: query.action }),
      ...(query.target_id === undefined ? {} : { targetId: query.target_id }),
    });
    res.json(renderPage(page, renderAuditEvent));
  });
  return router;
}
