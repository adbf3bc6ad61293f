// GET /.well-known/jwks.json: the published signing keys, precomputed with their ETag.
// Every verifier of every downstream service polls this, so it is a raw route, answered
// before express (see http/raw-routes.ts; express's request handling measured three
// quarters of the CPU of a JWKS answer). The body is written straight to the socket from
// bytes prepared once per key set. Only GET and HEAD of exactly this path (any query
// string) are answered here; anything else goes on to express (405 for another method).
import type { Keyring } from '../domain/keyring.js';
import { ifNoneMatch } from '../http/etag.js';
import { targetsPath, type RawRoute } from '../http/raw-routes.js';

export const JWKS_PATH = '/.well-known/jwks.json';

export function jwksRoute(deps: { keyring: Keyring; maxAgeSeconds: number }): RawRoute {
  const cacheControl = `public, max-age=${deps.maxAgeSeconds}`;
  let encoded: { body: string; bytes: Buffer } | undefined;
  return (req, res) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !targetsPath(req.url, JWKS_PATH)) return false;
    const { body, etag } = deps.keyring.jwks();
    if (encoded?.body !== body) encoded = { body, bytes: Buffer.from(body) };
    res.setHeader('Cache-Control', cacheControl);
    res.setHeader('ETag', etag);
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (ifNoneMatch(req.headers['if-none-match'], etag)) {
      res.statusCode = 304;
      res.end();
      return true;
    }
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', encoded.bytes.length);
    // Node sends no body in answer to HEAD.
    res.end(encoded.bytes);
    return true;
  };
}
