// POST /oauth2/token: the OAuth 2.0 client credentials grant (RFC 6749 §4.4) for any standard
// client library. client_id is the key id and the key names its org. It runs the very same
// exchange as POST /v1/token: one set of checks, one throttle, one audit trail — and, like
// it, it is a raw route, answered before express (see http/raw-routes.ts). Other methods
// on this path go on to express, which answers 405 (http/allowed-methods.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Exchange, ExchangeRequest } from '../domain/exchange.js';
import { parseScopeParam } from '../domain/scopes.js';
import { OAuthError } from '../errors.js';
import { FORM_CONTENT_TYPE, parseForm } from '../http/form-body.js';
import { exchangeError, INVALID_CLIENT_DESCRIPTION, logExchange, sendToken, tokenEndpoint } from '../http/token-endpoint.js';
import { readBodyText } from '../http/raw-body.js';
import type { RawRoute } from '../http/raw-routes.js';
import { rawClientIp, type TrustFunction } from '../http/request-context.js';
import { requestIdOf } from '../http/request-id.js';

export const OAUTH_TOKEN_PATH = '/oauth2/token';

/** RFC 6749 §5.2: a client that tried the Authorization header gets a challenge for the scheme we accept. */
export const BASIC_CHALLENGE: Readonly<Record<string, string>> = { 'WWW-Authenticate': 'Basic realm="scope-auth"' };

// Not strict: RFC 6749 §3.2 says unrecognized parameters MUST be ignored.
export const tokenForm = z.object({
  grant_type: z.string().max(256).optional(),
  client_id: z.string().max(256).optional(),
  client_secret: z.string().max(256).optional(),
  scope: z.string().max(4096).optional(),
});

const invalidRequest = (description: string) => new OAuthError('invalid_request', 400, description);
const invalidClient = () => new OAuthError('invalid_client', 401, INVALID_CLIENT_DESCRIPTION, BASIC_CHALLENGE);

/** RFC 6749 §2.3.1: each half of Basic credentials is form-urlencoded before base64 (`+` is a space). */
function formDecode(value: string): string | null {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

type BasicCredentials = { clientId: string; clientSecret: string } | 'malformed' | 'other_scheme';

function parseBasic(header: string): BasicCredentials {
  const [scheme = '', ...rest] = header.trim().split(/ +/);
  if (scheme.toLowerCase() !== 'basic') return scheme === '' ? 'malformed' : 'other_scheme';
  const encoded = rest.length === 1 ? rest[0]! : '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return 'malformed';
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  const clientId = formDecode(decoded.slice(0, colon));
  const clientSecret = formDecode(decoded.slice(colon + 1));
  return clientId === null || clientSecret === null ? 'malformed' : { clientId, clientSecret };
}

interface ClientCredentials {
  readonly keyId: string;
  readonly secret: string;
  readonly basic: boolean;
}

/** client_secret_basic or client_secret_post, never both (RFC 6749 §2.3: one method per request). */
function clientCredentials(authorization: string | undefined, clientId?: string, clientSecret?: string): ClientCredentials {
  if (authorization !== undefined) {
    if (clientSecret !== undefined) {
      throw invalidRequest('use one client authentication method: HTTP Basic or client_secret in the body, not both');
    }
    const basic = parseBasic(authorization);
    if (basic === 'other_scheme') throw invalidClient();
    if (basic === 'malformed') throw invalidRequest('the Authorization header is not well-formed Basic credentials');
    // Some clients repeat client_id in the body next to Basic; harmless unless it names another client.
    if (clientId !== undefined && clientId !== basic.clientId) {
      throw invalidRequest('client_id in the body differs from the one in the Authorization header');
    }
    return { keyId: basic.clientId, secret: basic.clientSecret, basic: true };
  }
  if (clientId === undefined || clientSecret === undefined) throw invalidClient();
  return { keyId: clientId, secret: clientSecret, basic: false };
}

export function oauthRoute(deps: { exchange: Exchange; logger: Logger; trust: TrustFunction }): RawRoute {
  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // §2.3.1: credentials MUST NOT be included in the request URI, where proxies and logs keep them.
    const query = new URL(req.url ?? '', 'http://localhost').searchParams;
    if (query.has('client_secret') || query.has('client_id')) {
      throw invalidRequest('client credentials must not be sent in the URL');
    }
    const body = await readBodyText(req, res, FORM_CONTENT_TYPE);
    if (!body.ok) throw new OAuthError('invalid_request', body.status, body.description);
    const form = parseForm(body.text);
    if (!form.ok) throw invalidRequest(form.error);
    const parsed = tokenForm.safeParse(Object.fromEntries(form.params));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw invalidRequest(`${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const { grant_type, client_id, client_secret, scope } = parsed.data;
    if (grant_type === undefined) throw invalidRequest('grant_type is required');
    if (grant_type !== 'client_credentials') {
      throw new OAuthError('unsupported_grant_type', 400, 'the only supported grant_type is client_credentials');
    }
    const credentials = clientCredentials(req.headers.authorization, client_id, client_secret);
    const scopes = scope === undefined ? [] : parseScopeParam(scope);
    const request: ExchangeRequest = {
      keyId: credentials.keyId,
      secret: credentials.secret,
      ...(scopes.length > 0 ? { scopes } : {}),
      ip: rawClientIp(req, deps.trust),
      requestId: requestIdOf(res),
    };
    const result = await deps.exchange(request);
    logExchange(res, request, result);
    if (!result.ok) throw exchangeError(result, credentials.basic ? BASIC_CHALLENGE : {});
    sendToken(res, result);
  }

  return tokenEndpoint(OAUTH_TOKEN_PATH, deps.logger, answer);
}
