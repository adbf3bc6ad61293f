// Reads a JSON request body for a route answered before express (see raw-routes.ts), with the
// rules express.json() applied there before: only application/json in UTF-8, no content
// coding, at most `limitBytes`, an object or array at the top (an empty body reads as {}).
import type { IncomingMessage } from 'node:http';

export type JsonBody = { ok: true; value: unknown } | { ok: false; description: string; tooLarge?: true };

const JSON_TYPE = 'application/json';

export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<JsonBody> {
  const refused = checkHeaders(req, limitBytes);
  if (refused !== null) return Promise.resolve(refused);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limitBytes) {
        // Stop collecting; the caller answers and closes the connection.
        req.removeListener('data', onData);
        req.removeListener('end', onEnd);
        resolve(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(parse(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', () => resolve({ ok: false, description: 'the request body could not be read' }));
  });
}

function checkHeaders(req: IncomingMessage, limitBytes: number): JsonBody | null {
  const contentType = req.headers['content-type'];
  const [mediaType = '', ...parameters] = (contentType ?? '').split(';');
  if (mediaType.trim().toLowerCase() !== JSON_TYPE) return { ok: false, description: `the body must be ${JSON_TYPE}` };
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
  if (length !== undefined && Number(length) > limitBytes) return tooLarge(limitBytes);
  return null;
}

function tooLarge(limitBytes: number): JsonBody {
  return { ok: false, description: `the request body exceeds ${Math.floor(limitBytes / 1024)} KiB`, tooLarge: true };
}

function parse(bytes: Buffer): JsonBody {
  const text = bytes.toString('utf8');
  const first = /\S/.exec(text)?.[0];
  if (first === undefined) return { ok: true, value: {} };
  if (first !== '{' && first !== '[') return notJson();
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return notJson();
  }
}

function notJson(): JsonBody {
  return { ok: false, description: 'the request body is not valid JSON' };
}
