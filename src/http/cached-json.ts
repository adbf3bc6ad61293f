// A public JSON document built once (the metadata, the OpenAPI document): its bytes and
// strong ETag computed at startup, answered with a public Cache-Control, readable from any
// origin, and 304 to a client whose If-None-Match names it.
import type { Request, Response } from 'express';
import { etagOf, ifNoneMatch } from './etag.js';

export interface CachedJson {
  readonly body: string;
  readonly etag: string;
}

export function cachedJson(value: unknown): CachedJson {
  const body = JSON.stringify(value);
  return { body, etag: etagOf(body) };
}

export function sendCachedJson(req: Request, res: Response, document: CachedJson, maxAgeSeconds: number): void {
  res.set({ 'Cache-Control': `public, max-age=${maxAgeSeconds}`, ETag: document.etag, 'Access-Control-Allow-Origin': '*' });
  if (ifNoneMatch(req.headers['if-none-match'], document.etag)) {
    res.status(304).end();
    return;
  }
  res.type('application/json').send(document.body);
}
