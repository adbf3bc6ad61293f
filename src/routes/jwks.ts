// GET /.well-known/jwks.json: the published signing keys, precomputed with their ETag.
// Every verifier of every downstream service polls this, so it is answered before express
// sees the request (createApp): express's request handling — prototypes, the router's
// passes, its response helpers — measured three quarters of the CPU of a JWKS answer. The
// body is written straight to the socket from bytes prepared once per key set.
// Only GET and HEAD of exactly this path (any query string) are answered here; anything
// else goes on to express, which answers a 404.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Keyring } from '../domain/keyring.js';
import { ifNoneMatch } from '../http/etag.js';

export const JWKS_PATH = '/.well-known/jwks.json';

/** Answers the request and returns true when it asks for the JWKS; false (nothing written) otherwise. */
export type JwksResponder = (req: IncomingMessage, res: ServerResponse) => boolean;

export function jwksResponder(deps: { keyring: Keyring; maxAgeSeconds: number }): JwksResponder {
  const cacheControl = `public, max-age=${deps.maxAgeSeconds}`;
  let encoded: { body: string; bytes: Buffer } | undefined;
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '';
    if (url !== JWKS_PATH && !(url.startsWith(JWKS_PATH) && url.charCodeAt(JWKS_PATH.length) === QUESTION_MARK)) return false;
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

const QUESTION_MARK = 0x3f;
