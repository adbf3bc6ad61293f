// GET /.well-known/jwks.json: the published signing keys, precomputed with their ETag.
import { Router } from 'express';
import type { Keyring } from '../domain/keyring.js';
import { ifNoneMatch } from '../http/etag.js';

export function jwksRoutes(deps: { keyring: Keyring; maxAgeSeconds: number }): Router {
  const router = Router();
  const cacheControl = `public, max-age=${deps.maxAgeSeconds}`;
  router.get('/.well-known/jwks.json', (req, res) => {
    const { body, etag } = deps.keyring.jwks();
    res.set({ 'Cache-Control': cacheControl, ETag: etag, 'Access-Control-Allow-Origin': '*' });
    if (ifNoneMatch(req, etag)) {
      res.status(304).end();
      return;
    }
    res.type('application/json').send(body);
  });
  return router;
}
