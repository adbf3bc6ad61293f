// The first thing the express app does with a request: refuse, by its headers alone, a body
// no route could read — a declared length over the limit (413) or a content coding (415) —
// before authentication or any parser runs, on every route. The raw routes apply the same
// rule (raw-body.ts). Without it express.json() inflated gzip bodies, and one that was not
// gzip at all became a 500.
import type { RequestHandler } from 'express';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js';
import { declaredBodyRefusal } from './raw-body.js';

export const refuseUnreadableBodies: RequestHandler = (req, res, next) => {
  const refused = declaredBodyRefusal(req, res);
  if (refused === null) return next();
  throw refused.status === 413 ? new PayloadTooLargeError(refused.description) : new UnsupportedMediaTypeError(refused.description);
};
