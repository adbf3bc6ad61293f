// /v1/me/mfa: the signed-in person's second factor (TOTP). GET shows its state; POST starts
// enrolment (→ the otpauth:// URI and the secret, shown once); POST /confirm with a current
// code enables it (→ the ten recovery codes, shown once); DELETE removes it, given a current
// code or a recovery code. Sessions only, and open to an enrolment-only session (an org's
// require_mfa). Listed before the /v1/me router, which would otherwise authenticate these
// requests a second time on their way here.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { confirmEnrolment, removeMySecondFactor, secondFactorStatus, startEnrolment, type SecondFactorDeps, type VerifySecondFactor } from '../domain/second-factor.js';
import { requireSession, sessionOf } from '../http/admin-auth.js';
import { jsonBody, parseInput } from '../http/admin-request.js';
import { isoTime, renderPerson } from '../http/render.js';
import { clientIp, noStore } from '../http/request-context.js';
import { codesOnlyOne, recoveryCodeInput, totpInput } from './sessions.js';

const confirmBody = z.strictObject({ code: totpInput });
const removeBody = z
  .strictObject({ totp: totpInput, recovery_code: recoveryCodeInput })
  .partial()
  .refine((body) => body.totp === undefined || body.recovery_code === undefined, codesOnlyOne);

export function mfaRoutes(deps: { secondFactor: SecondFactorDeps; auth: RequestHandler; verifySecondFactor: VerifySecondFactor }): Router {
  const router = Router();
  router.use('/v1/me/mfa', deps.auth, noStore, requireSession);

  router.get('/v1/me/mfa', async (req, res) => {
    parseInput(z.strictObject({}), req.query, 'query');
    const status = await secondFactorStatus(deps.secondFactor, sessionOf(res));
    res.json({ enabled: status.enabled, enabled_at: isoTime(status.enabledAt), pending: status.pending, recovery_codes_remaining: status.recoveryCodesRemaining });
  });

  router.post('/v1/me/mfa', jsonBody(), async (req, res) => {
    parseInput(z.strictObject({}), req.body, 'body');
    const enrolment = await startEnrolment(deps.secondFactor, sessionOf(res));
    res.status(201).json({ otpauth_uri: enrolment.otpauthUri, secret: enrolment.secret });
  });

  router.post('/v1/me/mfa/confirm', jsonBody(), async (req, res) => {
    const body = parseInput(confirmBody, req.body, 'body');
    const confirmed = await confirmEnrolment(deps.secondFactor, sessionOf(res), clientIp(req), body.code);
    res.json({ user: renderPerson(confirmed.user), recovery_codes: confirmed.recoveryCodes });
  });

  router.delete('/v1/me/mfa', jsonBody(), async (req, res) => {
    const body = parseInput(removeBody, req.body, 'body');
    await removeMySecondFactor(deps.secondFactor, deps.verifySecondFactor, sessionOf(res), clientIp(req), {
      ...(body.totp === undefined ? {} : { totp: body.totp }),
      ...(body.recovery_code === undefined ? {} : { recoveryCode: body.recovery_code }),
    });
    res.status(204).end();
  });

  return router;
}
