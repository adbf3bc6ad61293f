// Reads a request body for a route answered before express (see raw-routes.ts), with the
// rules express's body parsers applied there before: only the route's media type, in UTF-8,
// with no content coding, at most BODY_LIMIT_BYTES. readJsonBody adds express.json()'s: an
// object or array at the top, and an empty body reads as {}. declaredBodyRefusal is the part
// every route shares, express's too (http/body-gate.ts): what the headers alone refuse.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type BodyText = { ok: true; text: string } | BodyRefusal;
export type JsonBody = { ok: true; value: unknown } | BodyRefusal;
export interface BodyRefusal {
  readonly ok: false;
  /** 413 for a body over the limit, 415 for a content coding, 400 for anything else. */
  readonly status: 400 | 413 | 415;
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
    req.once('error', () => resolve({ ok: false, status: 400, description: 'the request body could not be read' }));
  });
}

export async function readJsonBody(req: IncomingMessage, res: ServerResponse): Promise<JsonBody> {
  const body = await readBodyText(req, res, JSON_TYPE);
  return body.ok ? parseJson(body.text) : body;
}

/**
 * What the headers alone refuse, before a byte of the body is read: a declared length over
 * the limit (413) and any content coding (415; no route accepts compressed bodies, and
 * express's parsers would otherwise try to inflate them). Either way the body stays unread,
 * so `res` is told to close the connection once it is answered rather than read the body
 * to its end to keep it.
 */
export function declaredBodyRefusal(req: IncomingMessage, res: ServerResponse): BodyRefusal | null {
  const length = req.headers['content-length'];
  if (length !== undefined && Number(length) > BODY_LIMIT_BYTES) return tooLarge(res);
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity' && hasBody(req)) {
    res.shouldKeepAlive = false;
    return { ok: false, status: 415, description: 'the body must not be compressed: no Content-Encoding is accepted' };
  }
  return null;
}

/** RFC 9112 §6.3: a request has a body when it declares a length above zero or a transfer coding. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) > 0);
}

function checkHeaders(req: IncomingMessage, res: ServerResponse, mediaType: string): BodyRefusal | null {
  const declared = declaredBodyRefusal(req, res);
  if (declared !== null) return declared;
  const [type = '', ...parameters] = (req.headers['content-type'] ?? '').split(';');
  if (type.trim().toLowerCase() !== mediaType) return { ok: false, status: 400, description: `the body must be ${mediaType}` };
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() === 'charset' && !/^"?utf-8"?$/i.test(value.trim())) {
      return { ok: false, status: 400, description: 'unsupported body encoding or charset' };
    }
  }
  return null;
}

/** The refusal of a body over the limit, whether declared or found while reading. */
export const BODY_TOO_LARGE = `the request body exceeds ${BODY_LIMIT_BYTES / 1024} KiB`;

function tooLarge(res: ServerResponse): BodyRefusal {
  // The rest of the body stays unread, so the connection cannot carry another request.
  res.shouldKeepAlive = false;
  return { ok: false, status: 413, description: BODY_TOO_LARGE };
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
  return { ok: false, status: 400, description: 'the request body is not valid JSON' };
}
