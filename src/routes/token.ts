// POST /v1/token: the JSON exchange of org id + key id + secret for an access token.
// Every client calls it, so it is a raw route, answered before express (see
// http/raw-routes.ts): the body is read by readJsonBody under the rules express.json()
// applied, validated with a schema, and the answer written with plain Node calls.
// Other methods on this path go on to express, which answers 405 (http/allowed-methods.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Exchange, ExchangeRequest } from '../domain/exchange.js';
import { parseScopeParam } from '../domain/scopes.js';
import { OAuthError } from '../errors.js';
import { readJsonBody } from '../http/raw-body.js';
import { exchangeError, logExchange, sendToken, tokenEndpoint } from '../http/token-endpoint.js';
import type { RawRoute } from '../http/raw-routes.js';
import { rawClientIp, type TrustFunction } from '../http/request-context.js';
import { requestIdOf } from '../http/request-id.js';

export const TOKEN_PATH = '/v1/token';

export const tokenRequest = z.strictObject({
  org_id: z.string().min(1).max(64),
  key_id: z.string().min(1).max(64),
  secret: z.string().min(1).max(128),
  scope: z.string().max(4096).optional(),
});

export function tokenRoute(deps: { exchange: Exchange; logger: Logger; trust: TrustFunction }): RawRoute {
  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req, res);
    if (!body.ok) throw new OAuthError('invalid_request', body.status, body.description);
    const parsed = tokenRequest.safeParse(body.value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || 'body';
      throw new OAuthError('invalid_request', 400, `${field}: ${issue.message}`);
    }
    const { org_id, key_id, secret, scope } = parsed.data;
    const scopes = scope === undefined ? [] : parseScopeParam(scope);
    const request: ExchangeRequest = {
      orgId: org_id,
      keyId: key_id,
      secret,
      ...(scopes.length > 0 ? { scopes } : {}),
      ip: rawClientIp(req, deps.trust),
      requestId: requestIdOf(res),
    };
    const result = await deps.exchange(request);
    logExchange(res, request, result);
    if (!result.ok) throw exchangeError(result);
    sendToken(res, result);
  }

  return tokenEndpoint(TOKEN_PATH, deps.logger, answer);
}
