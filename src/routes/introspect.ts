// POST /oauth2/introspect (RFC 7662). The caller authenticates with a bearer token of this
// server holding tokens:introspect (RFC 7662 §2.1 allows a bearer token instead of client
// credentials); its org is the tenant whose tokens it may ask about.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Introspect } from '../domain/introspection.js';
import { InvalidRequestError } from '../errors.js';
import { authOf, requireScope } from '../http/bearer-auth.js';
import { formText, readForm } from '../http/form-body.js';
import { noStore } from '../http/request-context.js';

export const INTROSPECT_PATH = '/oauth2/introspect';
export const INTROSPECT_SCOPE = 'tokens:introspect';

// Not strict: token_type_hint (§2.1) and any unrecognized parameter are ignored; there is one token type.
export const introspectForm = z.object({
  token: z.string({ error: 'the token parameter is required' }),
});

export function introspectRoutes(deps: { auth: RequestHandler; introspect: Introspect }): Router {
  const router = Router();
  router.use(INTROSPECT_PATH, noStore);
  router.post(INTROSPECT_PATH, deps.auth, requireScope(INTROSPECT_SCOPE), formText, async (req, res) => {
    const form = readForm(req);
    if (!form.ok) throw new InvalidRequestError(form.error);
    const parsed = introspectForm.safeParse(Object.fromEntries(form.params));
    if (!parsed.success) throw new InvalidRequestError(parsed.error.issues[0]!.message);
    const result = await deps.introspect(parsed.data.token, authOf(res).orgId);
    if (!result.active) {
      res.json({ active: false });
      return;
    }
    const { claims } = result;
    res.json({
      active: true,
      scope: claims.scope,
      client_id: claims.client_id,
      // §2.2 token_type: the type as RFC 6749 §5.1 names it in the token response.
      token_type: 'Bearer',
      exp: claims.exp,
      iat: claims.iat,
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      jti: claims.jti,
      org_id: claims.org_id,
      app_id: claims.app_id,
    });
  });
  return router;
}
