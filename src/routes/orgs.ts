// /v1/orgs: the root org's admins list and create organizations.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AdminDeps } from '../domain/actor.js';
import { createOrg, listOrgs } from '../domain/orgs.js';
import { adminActor, jsonBody, nameInput, pageQueryShape, parseInput } from '../http/admin-request.js';
import { requireScope } from '../http/bearer-auth.js';
import { renderApp, renderKey, renderOrg, renderPage } from '../http/render.js';
import { noStore } from '../http/request-context.js';

const listQuery = z.strictObject(pageQueryShape);
const createBody = z.strictObject({ name: nameInput });

export function orgsRoutes(deps: { admin: AdminDeps; auth: RequestHandler }): Router {
  const { admin, auth } = deps;
  const router = Router();
  router.use('/v1/orgs', auth, noStore, requireScope('admin.orgs:full'));

  router.get('/v1/orgs', async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    const page = await listOrgs(admin, adminActor(req, res), { limit: query.limit, cursor: query.cursor ?? null });
    res.json(renderPage(page, renderOrg));
  });

  router.post('/v1/orgs', jsonBody(), async (req, res) => {
    const body = parseInput(createBody, req.body, 'body');
    const created = await createOrg(admin, adminActor(req, res), { name: body.name });
    res.status(201).json({
      org: renderOrg(created.org),
      admin_app: renderApp(created.adminApp),
      key: renderKey(created.key),
      secret: created.secret,
    });
  });

  return router;
}
