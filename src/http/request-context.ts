import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import proxyaddr from 'proxy-addr';
import type { TrustProxy } from '../config.js';

/** Which hops may name the client in X-Forwarded-For; the express app and the raw routes share it. */
export type TrustFunction = (address: string, hop: number) => boolean;

/** SCOPE_AUTH_TRUST_PROXY as a function, the way express reads its `trust proxy` setting. */
export function trustFunction(trust: TrustProxy): TrustFunction {
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return proxyaddr.compile(trust);
}

/** The caller's address as Express computes it under SCOPE_AUTH_TRUST_PROXY. */
export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** The same for a request express has not seen (a raw route). */
export function rawClientIp(req: IncomingMessage, trust: TrustFunction): string {
  return proxyaddr(req, trust) || 'unknown';
}

/** Token responses must never be cached (RFC 6749 §5.1). */
export function setNoStore(res: ServerResponse): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
}

export const noStore: RequestHandler = (_req, res, next) => {
  setNoStore(res);
  next();
};
