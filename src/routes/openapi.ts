// GET /openapi.json: the OpenAPI 3.1 document of the whole HTTP API, built once at startup
// from the routes' own schemas (src/openapi/) and answered like the metadata document.
import { Router } from 'express';
import { cachedJson, sendCachedJson } from '../http/cached-json.js';

export const OPENAPI_PATH = '/openapi.json';

/** It changes only with a new release or configuration. */
export const OPENAPI_MAX_AGE_SECONDS = 3600;

export function openApiRoutes(deps: { document: unknown }): Router {
  const document = cachedJson(deps.document);
  const router = Router();
  router.get(OPENAPI_PATH, (req, res) => sendCachedJson(req, res, document, OPENAPI_MAX_AGE_SECONDS));
  return router;
}
