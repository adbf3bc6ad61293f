// Reads a request body for a route answered before express (see raw-routes.ts), with the
// rules express's body parsers applied there before: only the route's media type, in UTF-8,
// with no content coding, at most BODY_LIMIT_BYTES. readJsonBody adds express.json()'s: an
// object or array at the top, and an empty body reads as {}.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type BodyText = { ok: true; text: string } | BodyRefusal;
export type JsonBody = { ok: true; value: unknown } | BodyRefusal;
export interface BodyRefusal {
  readonly ok: false;
  readonly description: string;
}

/** The most any request body may hold, on every route (express's parsers are given it too). */
export const BODY_LIMIT_BYTES = 64 * 1024;

const JSON_TYPE = 'application/json';

/**
 * The body as text, when the request's Content-Type is `mediaType` (any case, UTF-8 if a
 * charset is named). A body over the limit is not read to its end, so `res` is told not to
 * keep the connection for another request once it is answered.
 */
export function readBodyText(req: IncomingMessage, res: ServerResponse, mediaType: string): Promise<BodyText> {
  const refused = checkHeaders(req, res, mediaType);
  if (refused !== null) return Promise.resolve(refused);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > BODY_LIMIT_BYTES) {
        req.removeListener('data', onData);
        req.removeListener('end', onEnd);
        resolve(tooLarge(res));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve({ ok: true, text: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)).toString('utf8') });
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', () => resolve({ ok: false, description: 'the request body could not be read' }));
  });
}

export async function readJsonBody(req: IncomingMessage, res: ServerResponse): Promise<JsonBody> {
  const body = await readBodyText(req, res, JSON_TYPE);
  return body.ok ? parseJson(body.text) : body;
}

function checkHeaders(req: IncomingMessage, res: ServerResponse, mediaType: string): BodyRefusal | null {
  const [type = '', ...parameters] = (req.headers['content-type'] ?? '').split(';');
  if (type.trim().toLowerCase() !== mediaType) return { ok: false, description: `the body must be ${mediaType}` };
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() === 'charset' && !/^"?utf-8"?$/i.test(value.trim())) {
      return { ok: false, description: 'unsupported body encoding or charset' };
    }
  }
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    return { ok: false, description: 'unsupported body encoding or charset' };
  }
  const length = req.headers['content-length'];
  if (length !== undefined && Number(length) > BODY_LIMIT_BYTES) return tooLarge(res);
  return null;
}

function tooLarge(res: ServerResponse): BodyRefusal {
  // The rest of the body stays unread, so the connection cannot carry another request.
  res.shouldKeepAlive = false;
  return { ok: false, description: `the request body exceeds ${BODY_LIMIT_BYTES / 1024} KiB` };
}

function parseJson(text: string): JsonBody {
  const first = /\S/.exec(text)?.[0];
  if (first === undefined) return { ok: true, value: {} };
  if (first !== '{' && first !== '[') return notJson();
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return notJson();
  }
}

function notJson(): BodyRefusal {
  return { ok: false, description: 'the request body is not valid JSON' };
}
