// /v1/me: the signed-in person (their org, role and the session's CSRF token), their name
// and password, and their sessions. Sessions only: a key has no "me". An enrolment-only
// session (an org's require_mfa) may read and change the person, not their sessions.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AdminDeps } from '../domain/actor.js';
import { endMyOtherSessions, endMySession, getMe, listMySessions, updateMe, type VerifyCurrentPassword } from '../domain/me.js';
import type { Csrf } from '../domain/sessions.js';
import { refuseEnrolmentSessions, requireSession, sessionOf } from '../http/admin-auth.js';
import { idParam, jsonBody, nameInput, pageQueryShape, parseInput } from '../http/admin-request.js';
import { isoTime, renderPage, renderPerson, renderSession } from '../http/render.js';
import { clientIp, noStore } from '../http/request-context.js';
import type { SessionCookie } from '../http/session-cookie.js';
import { passwordInput } from './sessions.js';

const updateBody = z
  .strictObject({ name: nameInput, current_password: passwordInput, new_password: passwordInput })
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: 'expected at least one of name, new_password (with current_password)' });
const listQuery = z.strictObject(pageQueryShape);
const sessionPath = z.strictObject({ session_id: idParam('session', 'a session') });

export function meRoutes(deps: { admin: AdminDeps; auth: RequestHandler; csrf: Csrf; cookie: SessionCookie; verifyCurrentPassword: VerifyCurrentPassword }): Router {
  const { admin } = deps;
  const router = Router();
  router.use('/v1/me', deps.auth, noStore, requireSession);
  router.use('/v1/me/sessions', refuseEnrolmentSessions);

  router.get('/v1/me', async (req, res) => {
    parseInput(z.strictObject({}), req.query, 'query');
    const session = sessionOf(res);
    const me = await getMe(admin, session);
    res.json({
      user: renderPerson(me.user),
      org: { id: me.org.id, name: me.org.name, is_root: me.org.isRoot, require_mfa: me.org.requireMfa },
      role: me.role,
      scopes: me.scopes,
      csrf_token: deps.csrf.tokenFor(session.secret),
      session: { id: me.session.id, expires_at: isoTime(me.session.expiresAt), restricted_to: session.restrictedTo },
    });
  });

  router.patch('/v1/me', jsonBody(), async (req, res) => {
    const body = parseInput(updateBody, req.body, 'body');
    const person = await updateMe(admin, deps.verifyCurrentPassword, sessionOf(res), clientIp(req), {
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.current_password === undefined ? {} : { currentPassword: body.current_password }),
      ...(body.new_password === undefined ? {} : { newPassword: body.new_password }),
    });
    res.json(renderPerson(person));
  });

  router.get('/v1/me/sessions', async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    res.json(renderPage(await listMySessions(admin, sessionOf(res), { limit: query.limit, cursor: query.cursor ?? null }), renderSession));
  });

  // Sign out everywhere else: every session of the person but this one.
  router.delete('/v1/me/sessions', async (req, res) => {
    await endMyOtherSessions(admin, sessionOf(res), clientIp(req));
    res.status(204).end();
  });

  router.delete('/v1/me/sessions/:session_id', async (req, res) => {
    const { session_id } = parseInput(sessionPath, req.params, 'path');
    const session = sessionOf(res);
    await endMySession(admin, session, clientIp(req), session_id);
    if (session_id === session.sessionId) deps.cookie.clear(res);
    res.status(204).end();
  });

  return router;
}
