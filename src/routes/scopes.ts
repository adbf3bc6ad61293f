// GET /v1/scopes: the catalogue an admin picks scopes from, built-ins included, and the
// audiences an app may name.
import { Router, type RequestHandler } from 'express';
import type { Catalog } from '../domain/scopes.js';
import { noInput, parseInput } from '../http/admin-request.js';
import { requireAnyScope } from '../http/bearer-auth.js';
import { renderCatalog } from '../http/render.js';
import { noStore } from '../http/request-context.js';

export function scopesRoutes(deps: { catalog: Catalog; defaultAudience: string; auth: RequestHandler }): Router {
  // "Any admin scope": every built-in admin.* scope opens the catalogue.
  const adminScopes = deps.catalog.builtins.filter((s) => s.startsWith('admin.'));
  const body = renderCatalog(deps.catalog, deps.defaultAudience);
  const router = Router();
  router.get('/v1/scopes', deps.auth, noStore, requireAnyScope(adminScopes), (req, res) => {
    parseInput(noInput, req.query, 'query');
    res.json(body);
  });
  return router;
}
