// One log line per request, with nothing that could carry a credential: no headers, no
// bodies, and the path without its query string.
//
// Written by hand rather than with pino-http: pino-http builds child loggers and serializes
// the request for every request, even when its line is below the level and never written,
// which cost as much CPU as the whole token exchange logic (measured with `npm run bench`).
// Here a request costs a `finish` listener; the line is built only when it will be written.
// It takes Node's own request and response, as createApp calls it for every request before
// anything answers (the JWKS is answered before express sees the request).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export type RequestLogger = (req: IncomingMessage, res: ServerResponse) => void;

export function requestLogger(logger: Logger): RequestLogger {
  let lastId = 0;
  return (req, res) => {
    const started = performance.now();
    const id = ++lastId;
    // As it arrived: routers rewrite req.url while they handle it.
    const url = req.url ?? '';
    res.once('finish', () => {
      const level = res.statusCode >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: { id, method: req.method, path: url.split('?')[0] },
          res: { status: res.statusCode },
          responseTime: Math.round(performance.now() - started),
        },
        'request completed',
      );
    });
  };
}
