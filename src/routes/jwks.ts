// GET /.well-known/jwks.json: the published signing keys, precomputed with their ETag.
import { Router, type Request } from 'express';
import type { Keyring } from '../domain/keyring.js';

function matches(req: Request, etag: string): boolean {
  const header = req.get('if-none-match');
  if (!header) return false;
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

export function jwksRoutes(deps: { keyring: Keyring; maxAgeSeconds: number }): Router {
  const router = Router();
  const cacheControl = `public, max-age=${deps.maxAgeSeconds}`;
  router.get('/.well-known/jwks.json', (req, res) => {
    const { body, etag } = deps.keyring.jwks();
    res.set({ 'Cache-Control': cacheControl, ETag: etag, 'Access-Control-Allow-Origin': '*' });
    if (matches(req, etag)) {
      res.status(304).end();
      return;
    }
    res.type('application/json').send(body);
  });
  return router;
}
