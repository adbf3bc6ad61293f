import type { Request, RequestHandler } from 'express';

/** The caller's address as Express computes it under SCOPE_AUTH_TRUST_PROXY. */
export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** Token responses must never be cached (RFC 6749 §5.1). */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  next();
};
