// /v1/orgs: the root org's admins list, create, read, change (name, allowance, disabled,
// require_mfa, auto_revoke_unused_days) and delete organizations; an org's own owners
// (admin.users:full) read theirs and set its require_mfa and auto_revoke_unused_days.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AdminDeps } from '../domain/actor.js';
import { ALLOWANCE_MAX } from '../domain/allowances.js';
import { deleteOrg, showOrg, updateOrg, type UpdateOrgInput } from '../domain/org-admin.js';
import { AUTO_REVOKE_UNUSED_DAYS_MAX, createOrg, listOrgs } from '../domain/orgs.js';
import { adminActor, idParam, jsonBody, nameInput, pageQueryShape, parseInput } from '../http/admin-request.js';
import { authOf, requireScope } from '../http/bearer-auth.js';
import { renderApp, renderKey, renderOrg, renderPage } from '../http/render.js';
import { noStore } from '../http/request-context.js';

export const orgsQuery = z.strictObject(pageQueryShape);
const daysMessage = { message: `expected a whole number of days from 1 to ${AUTO_REVOKE_UNUSED_DAYS_MAX}, or null (never)` };
const autoRevokeUnusedDays = z.number(daysMessage).int(daysMessage).min(1, daysMessage).max(AUTO_REVOKE_UNUSED_DAYS_MAX, daysMessage).nullable();
export const createOrgBody = z.strictObject({
  name: nameInput,
  invite_owner: z.boolean({ message: 'expected true or false' }).optional(),
  auto_revoke_unused_days: autoRevokeUnusedDays.optional(),
});
export const orgPath = z.strictObject({ org_id: idParam('org', 'an organization') });
export const updateOrgBody = z
  .strictObject({
    name: nameInput,
    allowed_scopes: z
      .array(z.string().min(1, { message: 'expected a scope name' }).max(128, { message: 'expected at most 128 characters' }))
      .max(ALLOWANCE_MAX, { message: `expected at most ${ALLOWANCE_MAX} scopes` })
      .nullable(),
    disabled: z.boolean(),
    require_mfa: z.boolean(),
    auto_revoke_unused_days: autoRevokeUnusedDays,
  })
  .partial()
  .refine((body) => Object.keys(body).length > 0, {
    message: 'expected at least one of name, allowed_scopes, disabled, require_mfa, auto_revoke_unused_days',
  });

const orgsFull = requireScope('admin.orgs:full');
/** The root admins, for any org; or the org's own owners (admin.users:full), for theirs: the domain tells what each may change. */
const orgsFullOrOwnOrg: RequestHandler = (req, res, next) => {
  const caller = authOf(res);
  if (!caller.scopes.has('admin.orgs:full') && caller.scopes.has('admin.users:full') && req.params['org_id'] === caller.orgId) return next();
  orgsFull(req, res, next);
};

export function orgsRoutes(deps: { admin: AdminDeps; auth: RequestHandler }): Router {
  const { admin, auth } = deps;
  const router = Router();
  router.use('/v1/orgs', auth, noStore);

  router.get('/v1/orgs', orgsFull, async (req, res) => {
    const query = parseInput(orgsQuery, req.query, 'query');
    const page = await listOrgs(admin, adminActor(req, res), { limit: query.limit, cursor: query.cursor ?? null });
    res.json(renderPage(page, renderOrg));
  });

  router.post('/v1/orgs', orgsFull, jsonBody(), async (req, res) => {
    const body = parseInput(createOrgBody, req.body, 'body');
    const created = await createOrg(admin, adminActor(req, res), {
      name: body.name,
      inviteOwner: body.invite_owner === true,
      ...(body.auto_revoke_unused_days === undefined ? {} : { autoRevokeUnusedDays: body.auto_revoke_unused_days }),
    });
    res.status(201).location(`/v1/orgs/${created.org.id}`).json({
      org: renderOrg(created.org),
      admin_app: renderApp(created.adminApp),
      key: renderKey(created.key),
      secret: created.secret,
      owner_invitation_url: created.ownerInvitationUrl,
    });
  });

  router.get('/v1/orgs/:org_id', orgsFullOrOwnOrg, async (req, res) => {
    const { org_id } = parseInput(orgPath, req.params, 'path');
    res.json(renderOrg(await showOrg(admin, adminActor(req, res), { orgId: org_id })));
  });

  router.patch('/v1/orgs/:org_id', orgsFullOrOwnOrg, jsonBody(), async (req, res) => {
    const { org_id } = parseInput(orgPath, req.params, 'path');
    const body = parseInput(updateOrgBody, req.body, 'body');
    const input: UpdateOrgInput = {
      orgId: org_id,
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.allowed_scopes === undefined ? {} : { allowedScopes: body.allowed_scopes }),
      ...(body.disabled === undefined ? {} : { disabled: body.disabled }),
      ...(body.require_mfa === undefined ? {} : { requireMfa: body.require_mfa }),
      ...(body.auto_revoke_unused_days === undefined ? {} : { autoRevokeUnusedDays: body.auto_revoke_unused_days }),
    };
    res.json(renderOrg(await updateOrg(admin, adminActor(req, res), input)));
  });

  router.delete('/v1/orgs/:org_id', orgsFull, async (req, res) => {
    const { org_id } = parseInput(orgPath, req.params, 'path');
    await deleteOrg(admin, adminActor(req, res), { orgId: org_id });
    res.status(204).end();
  });

  return router;
}
