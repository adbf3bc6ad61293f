// /v1/invitations/{token}: public. GET tells what a one-time link is for (an invitation or a
// password reset: the email, the org, the role); POST accepts it — `{ name, password }` for
// an invitation (and `email` for the first start's), `{ password }` for a reset — and signs
// the person in (a reset of a person with a second factor answers 200 { user, mfa_required:
// true } and no session: they sign in with the new password and a code). An unknown, used or
// expired link is one identical 404.
import { Router } from 'express';
import { z } from 'zod';
import type { AdminDeps } from '../domain/actor.js';
import { EMAIL_MAX } from '../domain/emails.js';
import { acceptLink, readLink } from '../domain/invitations.js';
import { jsonBody, nameInput, parseInput } from '../http/admin-request.js';
import { refuseCrossSite } from '../http/csrf.js';
import { isoTime, renderPerson } from '../http/render.js';
import { clientIp, noStore } from '../http/request-context.js';
import { addLogFields } from '../http/request-logger.js';
import { answerNewSession, passwordInput, type SessionAnswerDeps } from './sessions.js';

// The token's shape is the domain's to judge: anything else is the same 404 as a used one.
const tokenPath = z.strictObject({ token: z.string().max(200) });
const acceptBody = z.strictObject({
  name: nameInput.optional(),
  password: passwordInput,
  email: z.string().max(EMAIL_MAX, { message: `expected at most ${EMAIL_MAX} characters` }).optional(),
});

export function invitationsRoutes(deps: { admin: AdminDeps; answer: SessionAnswerDeps; origin: string }): Router {
  const router = Router();
  router.use('/v1/invitations', noStore);

  router.get('/v1/invitations/:token', async (req, res) => {
    const { token } = parseInput(tokenPath, req.params, 'path');
    const link = await readLink(deps.admin, token);
    res.json({
      purpose: link.purpose,
      email: link.email,
      org: { id: link.orgId, name: link.orgName },
      role: link.role,
      expires_at: isoTime(link.expiresAt),
    });
  });

  router.post('/v1/invitations/:token', jsonBody(), async (req, res) => {
    refuseCrossSite(req, deps.origin);
    const { token } = parseInput(tokenPath, req.params, 'path');
    const body = parseInput(acceptBody, req.body, 'body');
    const accepted = await acceptLink(
      deps.admin,
      token,
      { password: body.password, ...(body.name === undefined ? {} : { name: body.name }), ...(body.email === undefined ? {} : { email: body.email }) },
      { ip: clientIp(req), userAgent: req.get('user-agent') ?? null },
    );
    addLogFields(res, { outcome: accepted.purpose === 'invitation' ? 'joined' : 'password_reset', actor: accepted.user.id, org_id: accepted.user.org_id });
    if (accepted.session === null) {
      res.json({ user: renderPerson(accepted.user), mfa_required: true });
      return;
    }
    answerNewSession(res, deps.answer, { user: accepted.user, ...accepted.session });
  });

  return router;
}
