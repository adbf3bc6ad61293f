// One log line per request, with nothing that could carry a credential: no headers, no
// bodies, and the path without its query string. The line carries the request's id
// (X-Request-Id, see request-id.ts) and whatever the code that answered added with
// addLogFields: the token endpoints say who exchanged and what came of it, the admin API
// who called and which scope was missing.
//
// Written by hand rather than with pino-http: pino-http builds child loggers and serializes
// the request for every request, even when its line is below the level and never written,
// which cost as much CPU as the whole token exchange logic (measured with `npm run bench`).
// Here a request costs its id, a header and a `finish` listener; the line is built only when
// it will be written. Other lines about the same request carry `request_id` as a plain field
// (a child logger per request would cost what pino-http did). It takes Node's own request and
// response, as createApp calls it for every request before anything answers (the JWKS is
// answered before express sees the request).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Level, Logger } from 'pino';
import { REQUEST_ID_HEADER, requestIds, type RequestIds } from './request-id.js';

export type RequestLogger = (req: IncomingMessage, res: ServerResponse) => void;

/** Fields for a request's line. Never a secret, a token or a header value. */
export type LogFields = Readonly<Record<string, unknown>>;

const NOTE = Symbol('request log note');
interface Note {
  fields: Record<string, unknown>;
  level?: Level;
}
type NotedResponse = ServerResponse & { [NOTE]?: Note };

/** Adds `fields` to the line of the request `res` answers; a later call adds to (and overrides) an earlier one's. */
export function addLogFields(res: ServerResponse, fields: LogFields): void {
  const noted = res as NotedResponse;
  const note = noted[NOTE];
  if (note === undefined) noted[NOTE] = { fields: { ...fields } };
  else Object.assign(note.fields, fields);
}

/**
 * Writes the request's line at `level` rather than the one its status gives (error for a
 * 5xx, info otherwise): for answers that are counted on a line of their own instead, such
 * as load shedding's 503s.
 */
export function setLogLevel(res: ServerResponse, level: Level): void {
  const noted = res as NotedResponse;
  (noted[NOTE] ??= { fields: {} }).level = level;
}

const LINK_PATHS = ['/v1/invitations/', '/console/invitations/', '/console/password-reset/'];

/**
 * The path without its query string, and without what looks like a secret or a token: a
 * client may put one in the path by mistake (`GET /v1/keys/secret_…`). The token of an
 * invitation or password-reset link is in its path on purpose, and never logged.
 */
export function loggablePath(url: string): string {
  let path = url.split('?')[0]!;
  for (const prefix of LINK_PATHS) if (path.startsWith(prefix)) path = `${prefix}[redacted]`;
  if (!path.includes('secret_') && !path.includes('eyJ')) return path;
  return path.replace(/secret_[0-9A-Za-z]+/g, 'secret_[redacted]').replace(/eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*)*/g, '[redacted]');
}

export interface RequestLoggerOptions {
  readonly ids?: RequestIds;
  /**
   * Called when each response has been sent, with its duration: the request metrics, which
   * share this 'finish' listener rather than add a second one to every request.
   */
  readonly onFinish?: (req: IncomingMessage, res: ServerResponse, seconds: number) => void;
}

export function requestLogger(logger: Logger, options: RequestLoggerOptions = {}): RequestLogger {
  const { ids = requestIds(), onFinish } = options;
  return (req, res) => {
    const started = performance.now();
    const id = ids(req);
    res.setHeader(REQUEST_ID_HEADER, id);
    // As it arrived: routers rewrite req.url while they handle it.
    const url = req.url ?? '';
    res.once('finish', () => {
      onFinish?.(req, res, (performance.now() - started) / 1000);
      const note = (res as NotedResponse)[NOTE];
      const level = note?.level ?? (res.statusCode >= 500 ? 'error' : 'info');
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          ...note?.fields,
          request_id: id,
          req: { method: req.method, path: loggablePath(url) },
          res: { status: res.statusCode },
          responseTime: Math.round(performance.now() - started),
        },
        'request completed',
      );
    });
  };
}
