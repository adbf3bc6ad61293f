// Small helpers for admin API tests: reading the audit log, snapshots of an org's rows, a 400.
import { expect } from 'vitest';
import type { AuditEventView } from '../../src/domain/audit.js';
import { listAuditEvents } from '../../src/domain/audit.js';
import { cliActor } from '../../src/domain/actor.js';
import { renderAuditEvent } from '../../src/http/render.js';
import type { TestContext } from './context.js';

/** The org's audit events as GET /v1/audit renders them, newest first. */
export async function auditEvents(
  ctx: TestContext,
  orgId: string,
  filter: { action?: string; target_id?: string | undefined; limit?: number } = {},
): Promise<ReturnType<typeof renderAuditEvent>[]> {
  const page = await listAuditEvents(ctx.deps, cliActor(orgId), {
    limit: filter.limit ?? 200,
    ...(filter.action === undefined ? {} : { action: filter.action }),
    ...(filter.target_id === undefined ? {} : { targetId: filter.target_id }),
  });
  return page.data.map((e: AuditEventView) => renderAuditEvent(e));
}

/** Every row an org owns, to show that a refused request changed nothing. */
export async function orgSnapshot(ctx: TestContext, orgId: string) {
  const [apps, keys, events, webhooks, deliveries] = await Promise.all([
    ctx.db.selectFrom('apps').selectAll().where('org_id', '=', orgId).orderBy('id').execute(),
    ctx.db.selectFrom('api_keys').selectAll().where('org_id', '=', orgId).orderBy('id').execute(),
    ctx.db.selectFrom('audit_events').selectAll().where('org_id', '=', orgId).orderBy('id').execute(),
    ctx.db.selectFrom('webhooks').selectAll().where('org_id', '=', orgId).orderBy('id').execute(),
    ctx.db.selectFrom('webhook_deliveries').selectAll().where('org_id', '=', orgId).orderBy('id').execute(),
  ]);
  return { apps, keys, events, webhooks, deliveries };
}

/** A 400 `invalid_request` whose detail names `field`, as every bad input is answered. */
export function expect400(res: { status: number; body: { code?: unknown; detail?: unknown } }, field: string): void {
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ code: 'invalid_request' });
  expect(res.body.detail).toContain(field);
}
