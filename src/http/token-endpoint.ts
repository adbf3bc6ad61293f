// What the two token endpoints (POST /v1/token, POST /oauth2/token) share as raw routes (see
// raw-routes.ts): the route around their request handling, their success body, and their
// errors in the OAuth 2.0 shape `{ error, error_description }` (RFC 6749 §5.2) rather than
// problem+json.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isId } from '../domain/credentials.js';
import type { ExchangeRequest, ExchangeResult } from '../domain/exchange.js';
import { OAuthError } from '../errors.js';
import { targetsPath, type RawRoute } from './raw-routes.js';
import { setNoStore } from './request-context.js';
import { requestIdOf } from './request-id.js';
import { addLogFields, setLogLevel } from './request-logger.js';

/**
 * The raw route of a token endpoint: POST to `path`, never cached (RFC 6749 §5.1); `answer`
 * throws an OAuthError for a refusal, and anything else it throws is a 500 with no detail.
 */
export function tokenEndpoint(path: string, logger: Logger, answer: (req: IncomingMessage, res: ServerResponse) => Promise<void>): RawRoute {
  return (req, res) => {
    if (req.method !== 'POST' || !targetsPath(req.url, path)) return false;
    setNoStore(res);
    answer(req, res).catch((error: unknown) => renderTokenError(res, error, logger, path));
    return true;
  };
}

/**
 * Puts the exchange on the request's log line (one line per exchange): the org, the key, the
 * client's address and the outcome, with the reason of an `invalid_client` (the audit log's)
 * or the cause of an `unavailable`. Ids go on it only when well formed, so a client that put
 * its secret in the wrong field does not have it logged. A 503 is counted on a warn line of
 * its own, once a second (domain/exchange.ts), so its request line goes below info.
 */
export function logExchange(res: ServerResponse, request: ExchangeRequest, result: ExchangeResult): void {
  const claimedOrg = request.orgId !== undefined && isId('org', request.orgId) ? request.orgId : null;
  const orgId = ('orgId' in result ? result.orgId : null) ?? claimedOrg;
  const reason = result.ok ? undefined : result.error === 'invalid_client' ? result.reason : result.error === 'unavailable' ? result.cause : undefined;
  addLogFields(res, {
    org_id: orgId,
    key_id: isId('key', request.keyId) ? request.keyId : null,
    ip: request.ip,
    outcome: result.ok ? 'issued' : result.error,
    ...(reason === undefined ? {} : { reason }),
    // A key used with another org's id: the org it claimed, next to the key's own.
    ...(claimedOrg !== null && orgId !== claimedOrg ? { claimed_org_id: claimedOrg } : {}),
  });
  if (!result.ok && result.error === 'unavailable') setLogLevel(res, 'debug');
}

/** The token response (RFC 6749 §5.1) of a successful exchange. */
export function sendToken(res: ServerResponse, result: Extract<ExchangeResult, { ok: true }>): void {
  sendJson(res, 200, { access_token: result.accessToken, token_type: 'Bearer', expires_in: result.expiresIn, scope: result.scope });
}

export const INVALID_CLIENT_DESCRIPTION = 'client authentication failed';

/** Writes an OAuth error; a plain Node response, as the raw token route has no express one. */
export function sendOAuthError(res: ServerResponse, error: OAuthError): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  sendJson(res, error.status, { error: error.error, error_description: error.description });
}

/** Writes a JSON body with the status and content type express's res.json() would. */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

const UNAVAILABLE_DESCRIPTIONS = {
  busy: 'the server is busy verifying other credentials; retry later',
  database: 'the server cannot complete the exchange right now; retry later',
} as const;

const SERVER_ERROR = { error: 'server_error', error_description: 'an unexpected error occurred' } as const;

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
      return new OAuthError('temporarily_unavailable', 503, UNAVAILABLE_DESCRIPTIONS[result.cause], {
        'Retry-After': String(result.retryAfterSeconds),
      });
  }
}

/** The answer of a token endpoint that failed: its OAuth error, or a generic 500 for a bug. */
function renderTokenError(res: ServerResponse, error: unknown, logger: Logger, path: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error instanceof OAuthError) {
    sendOAuthError(res, error);
    return;
  }
  logger.error({ err: error, path, request_id: requestIdOf(res) }, 'unhandled error in token endpoint');
  sendJson(res, 500, SERVER_ERROR);
}
