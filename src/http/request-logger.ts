// One log line per request, with nothing that could carry a credential: no headers, no
// bodies, and the path without its query string.
//
// Written by hand rather than with pino-http: pino-http builds child loggers and serializes
// the request for every request, even when its line is below the level and never written,
// which cost as much CPU as the whole token exchange logic (measured with `npm run bench`).
// Here a request costs a `finish` listener; the line is built only when it will be written.
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

export function requestLogger(logger: Logger): RequestHandler {
  let lastId = 0;
  return (req, res, next) => {
    const started = performance.now();
    const id = ++lastId;
    res.once('finish', () => {
      const level = res.statusCode >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: { id, method: req.method, path: req.originalUrl.split('?')[0] },
          res: { status: res.statusCode },
          responseTime: Math.round(performance.now() - started),
        },
        'request completed',
      );
    });
    next();
  };
}
