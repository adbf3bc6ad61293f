// /v1/users: the people of the caller's org (admin.users:full): list, invite, read, change
// (role, status, name), delete, a password-reset link, their sessions, and resetting their
// second factor.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AdminDeps } from '../domain/actor.js';
import { EMAIL_MAX } from '../domain/emails.js';
import { endUserSessions, listUserSessionsOf } from '../domain/me.js';
import { deleteUser, getUser, inviteUser, issuePasswordReset, listUsers, updateUser, type UpdateUserInput } from '../domain/people.js';
import { ROLES } from '../domain/roles.js';
import { resetSecondFactor } from '../domain/second-factor.js';
import { adminActor, idParam, jsonBody, nameInput, pageQueryShape, parseInput } from '../http/admin-request.js';
import { requireScope } from '../http/bearer-auth.js';
import { renderPage, renderPerson, renderSession } from '../http/render.js';
import { noStore } from '../http/request-context.js';

const userPath = z.strictObject({ user_id: idParam('user', 'a person') });
const listQuery = z.strictObject(pageQueryShape);
const emailInput = z.string().max(EMAIL_MAX, { message: `expected at most ${EMAIL_MAX} characters` });
const roleInput = z.enum(ROLES, { message: `expected one of ${ROLES.join(', ')}` });
const inviteBody = z.strictObject({ email: emailInput, role: roleInput });
const updateBody = z
  .strictObject({ role: roleInput, status: z.enum(['active', 'disabled'], { message: 'expected active or disabled' }), name: nameInput })
  .partial()
  .refine((body) => Object.keys(body).length > 0, { message: 'expected at least one of role, status, name' });

export function usersRoutes(deps: { admin: AdminDeps; auth: RequestHandler }): Router {
  const { admin, auth } = deps;
  const router = Router();
  router.use('/v1/users', auth, noStore, requireScope('admin.users:full'));

  router.get('/v1/users', async (req, res) => {
    const query = parseInput(listQuery, req.query, 'query');
    res.json(renderPage(await listUsers(admin, adminActor(req, res), { limit: query.limit, cursor: query.cursor ?? null }), renderPerson));
  });

  router.post('/v1/users', jsonBody(), async (req, res) => {
    const body = parseInput(inviteBody, req.body, 'body');
    const invited = await inviteUser(admin, adminActor(req, res), { email: body.email, role: body.role });
    res.status(201).location(`/v1/users/${invited.user.id}`).json({ user: renderPerson(invited.user), invitation_url: invited.invitationUrl });
  });

  router.get('/v1/users/:user_id', async (req, res) => {
    const { user_id } = parseInput(userPath, req.params, 'path');
    res.json(renderPerson(await getUser(admin, adminActor(req, res), { userId: user_id })));
  });

  router.patch('/v1/users/:user_id', jsonBody(), async (req, res) => {
    const { user_id } = parseInput(userPath, req.params, 'path');
    const body = parseInput(updateBody, req.body, 'body');
    const input: UpdateUserInput = {
      userId: user_id,
      ...(body.role === undefined ? {} : { role: body.role }),
      ...(body.status === undefined ? {} : { status: body.status }),
      ...(body.name === undefined ? {} : { name: body.name }),
    };
    res.json(renderPerson(await updateUser(admin, adminActor(req, res), input)));
  });

  router.delete('/v1/users/:user_id', async (req, res) => {
    const { user_id } = parseInput(userPath, req.params, 'path');
    await deleteUser(admin, adminActor(req, res), { userId: user_id });
    res.status(204).end();
  });

  router.post('/v1/users/:user_id/password-reset', jsonBody(), async (req, res) => {
    const { user_id } = parseInput(userPath, req.params, 'path');
    parseInput(z.strictObject({}), req.body, 'body');
    const issued = await issuePasswordReset(admin, adminActor(req, res), { userId: user_id });
    res.status(201).json({ reset_url: issued.resetUrl });
  });

  router.get('/v1/users/:user_id/sessions', async (req, res) => {
    const { user_id } = parseInput(userPath, req.params, 'path');
    const query = parseInput(listQuery, req.query, 'query');
    const page = await listUserSessionsOf(admin, adminActor(req, res), { userId: user_id, limit: query.limit, cursor: query.cursor ?? null });
    res.json(renderPage(page, renderSession));
  });

  router.delete('/v1/users/:user_id/sessions', async (req, res) => {
    const { user_id } = parseInput(userPath, req.params, 'path');
    await endUserSessions(admin, adminActor(req, res), { userId: user_id });
    res.status(204).end();
  });

  // For a person who lost their phone and their recovery codes: they sign in with their
  // password alone again (or go to enrolment, where the org requires a second factor).
  router.delete('/v1/users/:user_id/mfa', async (req, res) => {
    const { user_id } = parseInput(userPath, req.params, 'path');
    res.json(renderPerson(await resetSecondFactor(admin, adminActor(req, res), { userId: user_id })));
  });

  return router;
}
