// What the console answers to key-policy input it refuses: the form again with 400, the
// refusal in plain words next to the field, what was typed kept, nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orgSnapshot } from '../helpers/admin.js';
import { consolePost } from '../helpers/console.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { DIALECTS, dialectTitle } from '../helpers/db.js';
import { createPerson, type SignedIn } from '../helpers/people.js';

function fieldMessage(html: string, name: string): string | null {
  const found = new RegExp(`<p class="field-error" id="${name}-error">([^<]*)</p>`).exec(html);
  return found === null ? null : found[1]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'");
}

describe.each(DIALECTS)('console key policy errors on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    let ctx: TestContext;
    let owner: SignedIn;
    beforeAll(async () => {
      ctx = await createTestContext({ dialect: dialectCase.dialect });
      owner = await createPerson(ctx, { role: 'owner', email: 'policy-errors@example.com' });
    });
    afterAll(async () => ctx?.close());

    const settings = (fields: Record<string, string | string[]>) => ({ name: 'svc', description: '', scope: ['tools:deploy'], audience: '', token_ttl: '', ...fields });

    it('shows a bad address next to the Allowed IP addresses field on the Settings tab, keeping what was typed', async () => {
      const app = await ctx.createApp(owner.orgId, ['tools:deploy']);
      const before = await orgSnapshot(ctx, owner.orgId);
      const res = await consolePost(ctx.app, owner, `/console/apps/${app.id}/settings`, settings({ allowed_ips: '10.0.0.0/8\nnot-an-ip' })).expect(400);
      expect(fieldMessage(res.text, 'allowed_ips')).toBe(
        '"not-an-ip" is not an IP address; expected an IPv4 or IPv6 address or a CIDR range such as 203.0.113.0/24 or 2001:db8::/32.',
      );
      expect(res.text).toMatch(/<textarea id="allowed_ips"[^>]*aria-invalid="true"[^>]*>10\.0\.0\.0\/8\nnot-an-ip<\/textarea>/);
      expect(await orgSnapshot(ctx, owner.orgId)).toEqual(before);
    });

    it('refuses more than 100 addresses on the app’s form', async () => {
      const many = Array.from({ length: 101 }, (_, i) => `192.0.2.${i}`).join('\n');
      const res = await consolePost(ctx.app, owner, '/console/apps', settings({ allowed_ips: many })).expect(400);
      expect(fieldMessage(res.text, 'allowed_ips')).toBe('Expected at most 100 addresses or ranges.');
    });

    it('refuses a key scope the app does not grant (a forged form) next to the scopes', async () => {
      const app = await ctx.createApp(owner.orgId, ['tools:deploy']);
      const res = await consolePost(ctx.app, owner, `/console/apps/${app.id}/keys`, { name: 'kept', expires: '', scope: ['tools:deploy', 'runtime:run'], allowed_ips: '' }).expect(400);
      expect(fieldMessage(res.text, 'scopes')).toBe("The app does not grant runtime:run (it grants tools:deploy); a key's scopes narrow its app's.");
      expect(res.text).toContain('value="kept"');
      expect(res.text).toMatch(/value="tools:deploy" checked/);
    });

    it('refuses key addresses outside the app’s list next to the field', async () => {
      const app = await ctx.createApp(owner.orgId, ['tools:deploy'], { allowed_ips: ['198.51.100.0/24'] });
      const before = await orgSnapshot(ctx, owner.orgId);
      const res = await consolePost(ctx.app, owner, `/console/apps/${app.id}/keys`, { name: 'k', expires: '', allowed_ips: '203.0.113.1' }).expect(400);
      expect(fieldMessage(res.text, 'allowed_ips')).toBe("The app's allowed_ips (198.51.100.0/24) do not hold 203.0.113.1; a key's list narrows its app's.");
      expect(await orgSnapshot(ctx, owner.orgId)).toEqual(before);
    });
  });
});
