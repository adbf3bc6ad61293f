// Rendering for the token endpoints (raw routes, see raw-routes.ts), which answer in the
// OAuth 2.0 error shape `{ error, error_description }` (RFC 6749 §5.2) rather than problem+json.
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ExchangeResult } from '../domain/exchange.js';
import { OAuthError } from '../errors.js';

export const INVALID_CLIENT_DESCRIPTION = 'client authentication failed';

/** Writes an OAuth error; a plain Node response, as the raw token route has no express one. */
export function sendOAuthError(res: ServerResponse, error: OAuthError): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  sendJson(res, error.status, { error: error.error, error_description: error.description });
}

/** Writes a JSON body with the status and content type express's res.json() would. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export const SERVER_ERROR = { error: 'server_error', error_description: 'an unexpected error occurred' } as const;

/** The OAuth error for a refused exchange; one identical body for every credential failure. */
export function exchangeError(result: Exclude<ExchangeResult, { ok: true }>, invalidClientHeaders = {}): OAuthError {
  switch (result.error) {
    case 'invalid_client':
      return new OAuthError('invalid_client', 401, INVALID_CLIENT_DESCRIPTION, invalidClientHeaders);
    case 'invalid_scope':
      return new OAuthError('invalid_scope', 400, `scope not granted to this client: ${result.notGranted.join(' ')}`);
    case 'throttled':
      return new OAuthError('slow_down', 429, 'too many failed attempts; retry later', {
        'Retry-After': String(result.retryAfterSeconds),
      });
    case 'unavailable':
      // RFC 6749 §4.1.2.1 names the code; it is used here with the 503 it stands for.
      return new OAuthError('temporarily_unavailable', 503, 'the server is busy verifying other credentials; retry later', {
        'Retry-After': String(result.retryAfterSeconds),
      });
  }
}

/** The answer of a token endpoint (a raw route) that failed: its OAuth error, or a generic 500 for a bug. */
export function renderTokenError(res: ServerResponse, error: unknown, logger: Logger, path: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof OAuthError) {
    sendOAuthError(res, error);
    return;
  }
  logger.error({ err: error, path }, 'unhandled error in token endpoint');
  sendJson(res, 500, SERVER_ERROR);
}
