// Renders every error outside the token endpoints as RFC 9457 problem+json. Anything that
// is not one of our HttpErrors (or a body-parser 4xx) is a bug: logged, and answered with
// a generic 500 that carries no stack, SQL or path.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { HttpError, InvalidRequestError, NotFoundError, PayloadTooLargeError, UnavailableError, UnsupportedMediaTypeError } from '../errors.js';
import { isDatabaseUnavailable } from '../store/availability.js';
import { BODY_TOO_LARGE } from './raw-body.js';
import { requestIdOf } from './request-id.js';
import { addLogFields, loggablePath } from './request-logger.js';

export const PROBLEM_TYPE_PREFIX = 'urn:scope-auth:problem:';

export function sendProblem(res: Response, status: number, code: string, title: string, detail: string, extra = {}) {
  res
    .status(status)
    .type('application/problem+json')
    .json({ type: PROBLEM_TYPE_PREFIX + code, title, status, detail, code, ...extra });
}

/** Maps body-parser's own errors (which carry `type` and a 4xx `status`) onto our closed set. */
export function bodyParserError(error: unknown): HttpError | null {
  const e = error as { type?: unknown; status?: unknown };
  if (typeof e.type !== 'string' || typeof e.status !== 'number') return null;
  switch (e.type) {
    case 'entity.too.large':
      return new PayloadTooLargeError(BODY_TOO_LARGE);
    case 'entity.parse.failed':
      return new InvalidRequestError('the request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError('unsupported body encoding or charset');
    default:
      return e.status >= 400 && e.status < 500 ? new InvalidRequestError('the request body could not be read') : null;
  }
}

/** The router's refusal to decode a path parameter with a malformed escape (`/v1/apps/%E0`). */
function pathError(error: unknown): HttpError | null {
  return error instanceof URIError && (error as { status?: unknown }).status === 400
    ? new InvalidRequestError('the path holds a malformed percent-escape')
    : null;
}

export const notFound: RequestHandler = (req) => {
  throw new NotFoundError(`no route for ${req.method} ${req.path}`);
};

export function problemErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const known = error instanceof HttpError ? error : (bodyParserError(error) ?? pathError(error));
    if (known) {
      // A body refused as too large is not read to its end: the connection cannot carry another request.
      if (known instanceof PayloadTooLargeError) res.shouldKeepAlive = false;
      noteRefusal(res, known);
      sendProblem(res, known.status, known.code, known.title, known.message, known.extra);
      return;
    }
    if (isDatabaseUnavailable(error)) {
      // Not a bug: the database is down or stalled, and a retry in a moment may succeed.
      logger.warn({ err: { message: (error as Error).message }, method: req.method, path: loggablePath(req.path), request_id: requestIdOf(res) }, 'database unavailable');
      res.set('Retry-After', '1');
      const unavailable = new UnavailableError('the server cannot reach its database right now; retry later');
      sendProblem(res, unavailable.status, unavailable.code, unavailable.title, unavailable.message);
      return;
    }
    logger.error({ err: error, method: req.method, path: loggablePath(req.path), request_id: requestIdOf(res) }, 'unhandled error');
    sendProblem(res, 500, 'internal_error', 'Internal server error', 'an unexpected error occurred');
  };
}

/**
 * The request's log line says why it was refused (the problem's code) and, for a 403, which
 * scope the caller lacked (the caller itself is already on it: bearer-auth.ts adds it).
 */
function noteRefusal(res: Response, error: HttpError): void {
  const missing = error.extra?.['required_scope'] ?? error.extra?.['missing_scopes'];
  addLogFields(res, {
    code: error.code,
    ...(missing === undefined ? {} : { missing_scope: Array.isArray(missing) ? missing.join(' ') : missing }),
  });
}
