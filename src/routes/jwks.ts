// GET /.well-known/jwks.json: the published signing keys, precomputed with their ETag.
// Every verifier of every downstream service polls this, so the answer is written straight
// to the socket from bytes prepared once per key set (express's send() would re-derive the
// content type and re-encode the body on every request).
import { Router } from 'express';
import type { Keyring } from '../domain/keyring.js';
import { ifNoneMatch } from '../http/etag.js';

export function jwksRoutes(deps: { keyring: Keyring; maxAgeSeconds: number }): Router {
  const router = Router();
  const cacheControl = `public, max-age=${deps.maxAgeSeconds}`;
  let encoded: { body: string; bytes: Buffer } | undefined;
  router.get('/.well-known/jwks.json', (req, res) => {
    const { body, etag } = deps.keyring.jwks();
    if (encoded?.body !== body) encoded = { body, bytes: Buffer.from(body) };
    res.setHeader('Cache-Control', cacheControl);
    res.setHeader('ETag', etag);
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (ifNoneMatch(req, etag)) {
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', encoded.bytes.length);
    res.end(encoded.bytes);
  });
  return router;
}
