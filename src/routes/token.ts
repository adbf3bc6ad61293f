// POST /v1/token: the JSON exchange of org id + key id + secret for an access token.
import express, { Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Exchange } from '../domain/exchange.js';
import { parseScopeParam } from '../domain/scopes.js';
import { OAuthError } from '../errors.js';
import { exchangeError, oauthErrorHandler } from '../http/oauth-errors.js';
import { clientIp, noStore } from '../http/request-context.js';

const tokenRequest = z.strictObject({
  org_id: z.string().min(1).max(64),
  key_id: z.string().min(1).max(64),
  secret: z.string().min(1).max(128),
  scope: z.string().max(4096).optional(),
});

export function tokenRoutes(deps: { exchange: Exchange; logger: Logger }): Router {
  const router = Router();
  router.post('/v1/token', noStore, express.json({ limit: '64kb' }), async (req, res) => {
    // express.json() parsed the body only if it was JSON; ask again only when it did not.
    if (req.body === undefined && !req.is('application/json')) {
      throw new OAuthError('invalid_request', 400, 'the body must be application/json');
    }
    const parsed = tokenRequest.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || 'body';
      throw new OAuthError('invalid_request', 400, `${field}: ${issue.message}`);
    }
    const { org_id, key_id, secret, scope } = parsed.data;
    const scopes = scope === undefined ? [] : parseScopeParam(scope);
    const result = await deps.exchange({
      orgId: org_id,
      keyId: key_id,
      secret,
      ...(scopes.length > 0 ? { scopes } : {}),
      ip: clientIp(req),
    });
    if (!result.ok) throw exchangeError(result);
    res.json({ access_token: result.accessToken, token_type: 'Bearer', expires_in: result.expiresIn, scope: result.scope });
  });
  router.use('/v1/token', oauthErrorHandler(deps.logger));
  return router;
}
