// The console's forms for key policies, as routes: an app's allowed IPs on its form and its
// Settings tab, and a key created with some of its app's scopes and addresses of its own;
// each lands as the API's would (the stored row, the audit event).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../helpers/admin.js';
import { consoleGet, consolePost, visibleText } from '../helpers/console.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, type SignedIn } from '../helpers/people.js';
import { getApiKey } from '../../src/store/api-keys.js';
import { getApp } from '../../src/store/apps.js';

describe.each(DIALECTS)('console key policies on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      owner = await createPerson(ctx, { role: 'owner', email: 'policies@example.com' });
    });
    afterAll(async () => ctx?.close());

    const appForm = (fields: Record<string, string | string[]>) => ({ name: 'svc', description: '', 'level.agents': 'agents:edit', scope: ['runtime:run', 'tools:deploy'], audience: '', token_ttl: '', ...fields });

    async function createAppByForm(fields: Record<string, string | string[]> = {}) {
      const res = await consolePost(ctx.app, owner, '/console/apps', appForm(fields)).expect(303);
      return /\/console\/apps\/(app_[0-9A-Z]+)\/keys/.exec(res.headers.location!)![1]!;
    }

    it('creates an app with allowed IPs typed one per line, stored normalized, and shows them', async () => {
      const appId = await createAppByForm({ allowed_ips: '203.0.113.9/24\r\n\r\n2001:DB8::/32, 198.51.100.7\n' });
      expect((await getApp(ctx.db, owner.orgId, appId))?.allowed_ips).toEqual(['203.0.113.0/24', '2001:db8::/32', '198.51.100.7']);
      const settings = (await consoleGet(ctx.app, owner, `/console/apps/${appId}/settings`).expect(200)).text;
      expect(settings).toContain('>203.0.113.0/24\n2001:db8::/32\n198.51.100.7</textarea>');
      expect(visibleText(settings)).toContain('Allowed IPs 203.0.113.0/24 2001:db8::/32 198.51.100.7');
    });

    it('creates an app open to any address when the field is empty', async () => {
      const appId = await createAppByForm({ allowed_ips: '  \n' });
      expect((await getApp(ctx.db, owner.orgId, appId))?.allowed_ips).toBeNull();
      expect(visibleText((await consoleGet(ctx.app, owner, `/console/apps/${appId}/keys`).expect(200)).text)).toContain('Allowed IPs Any address');
    });

    it('edits the allowed IPs on the Settings tab, audited as app.updated, and empties them for any address', async () => {
      const appId = await createAppByForm();
      await consolePost(ctx.app, owner, `/console/apps/${appId}/settings`, appForm({ allowed_ips: '10.0.0.0/8' })).expect(303);
      expect((await getApp(ctx.db, owner.orgId, appId))?.allowed_ips).toEqual(['10.0.0.0/8']);
      const [event] = await auditEvents(ctx, owner.orgId, { action: 'app.updated', target_id: appId });
      expect(event?.details).toEqual({ changes: { allowed_ips: { from: null, to: ['10.0.0.0/8'] } } });
      // Saved again as shown: nothing changes, nothing is audited.
      await consolePost(ctx.app, owner, `/console/apps/${appId}/settings`, appForm({ allowed_ips: '10.0.0.0/8' })).expect(303);
      expect(await auditEvents(ctx, owner.orgId, { action: 'app.updated', target_id: appId })).toHaveLength(1);
      await consolePost(ctx.app, owner, `/console/apps/${appId}/settings`, appForm({ allowed_ips: '' })).expect(303);
      expect((await getApp(ctx.db, owner.orgId, appId))?.allowed_ips).toBeNull();
    });

    it('offers the app’s scopes as checkboxes, and creates a key with the ones ticked and addresses of its own', async () => {
      const appId = await createAppByForm({ allowed_ips: '198.51.100.0/24' });
      const form = (await consoleGet(ctx.app, owner, `/console/apps/${appId}/keys/new`).expect(200)).text;
      for (const scope of ['agents:edit', 'agents:view', 'runtime:run', 'sessions:create', 'tools:deploy']) {
        expect(form).toContain(`<input type="checkbox" name="scope" value="${scope}">`);
      }
      expect(visibleText(form)).toContain("within the app's (198.51.100.0/24)");
      const res = await consolePost(ctx.app, owner, `/console/apps/${appId}/keys`, { name: 'narrow', expires: '', scope: ['agents:view', 'tools:deploy'], allowed_ips: '198.51.100.0/28' }).expect(200);
      const keyId = /SCOPE_API_KEY=(key_[0-9A-Z]+)/.exec(res.text)![1]!;
      expect(await getApiKey(ctx.db, owner.orgId, keyId)).toMatchObject({ scopes: ['agents:view', 'tools:deploy'], allowed_ips: ['198.51.100.0/28'] });
      const [event] = await auditEvents(ctx, owner.orgId, { action: 'key.created', target_id: keyId });
      expect(event?.details).toMatchObject({ scopes: ['agents:view', 'tools:deploy'], allowed_ips: ['198.51.100.0/28'] });
      const tab = visibleText((await consoleGet(ctx.app, owner, `/console/apps/${appId}/keys`).expect(200)).text);
      expect(tab).toContain('narrow Scopes: agents:view tools:deploy From: 198.51.100.0/28');
    });

    it('creates a key with everything its app grants when no scope is ticked', async () => {
      const appId = await createAppByForm();
      const res = await consolePost(ctx.app, owner, `/console/apps/${appId}/keys`, { name: 'broad', expires: '', allowed_ips: '' }).expect(200);
      const keyId = /SCOPE_API_KEY=(key_[0-9A-Z]+)/.exec(res.text)![1]!;
      expect(await getApiKey(ctx.db, owner.orgId, keyId)).toMatchObject({ scopes: null, allowed_ips: null });
    });
  });
});
