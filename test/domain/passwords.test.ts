import { describe, expect, it } from 'vitest';
import commonList from '../../src/data/common-passwords.json' with { type: 'json' };
import { checkNewPassword, codePoints } from '../../src/domain/passwords.js';
import { invalidRequestOf } from '../helpers/thrown.js';
import { buildCatalog } from '../../src/domain/scopes.js';
import { roleScopes } from '../../src/domain/roles.js';

describe('new passwords', () => {
  it('takes 15 to 256 characters of anything, counted in code points after NFC, with no composition rules', () => {
    expect(checkNewPassword('a'.repeat(15), null)).toBe('a'.repeat(15));
    expect(checkNewPassword('😀'.repeat(15), null)).toHaveLength(30);
    expect(codePoints('😀'.repeat(15))).toBe(15);
    expect(invalidRequestOf(() => checkNewPassword('a'.repeat(14), null)).message).toContain('15 to 256');
    expect(invalidRequestOf(() => checkNewPassword('😀'.repeat(257), null)).message).toContain('15 to 256');
    // "é" written as e + combining accent is one character once normalized, and the same password as "é".
    const decomposed = 'caf\u0065\u0301 ' + 'x'.repeat(10);
    expect(checkNewPassword(decomposed, null)).toBe('caf\u00e9 ' + 'x'.repeat(10));
    expect(() => checkNewPassword('e\u0301'.repeat(14), null)).toThrow();
  });

  it('refuses the 1,000 most common passwords whatever their case', () => {
    expect(commonList.passwords).toHaveLength(1000);
    expect(commonList.license).toMatch(/^MIT/);
    for (const common of ['password', 'PASSWORD', 'Dragon', 'qwertyuiop', commonList.passwords[999]!]) {
      expect(invalidRequestOf(() => checkNewPassword(common, null)).message).toContain('most common');
    }
  });

  it('refuses a password containing the email’s local part when it has at least 3 characters', () => {
    expect(invalidRequestOf(() => checkNewPassword('my name is ADA.lovelace ok', 'Ada.Lovelace@example.com')).message).toContain('before the @');
    expect(checkNewPassword('jo jo jo jo jo jo jo', 'jo@example.com')).toBe('jo jo jo jo jo jo jo');
  });
});

describe('roles', () => {
  const catalog = buildCatalog({});
  it('map to the built-in admin scopes, expanded; owners of the root org also hold admin.orgs:full', () => {
    expect(roleScopes(catalog, 'viewer', false)).toEqual(['admin.apps:view', 'admin.audit:view', 'admin.webhooks:view']);
    expect(roleScopes(catalog, 'editor', false)).toEqual(['admin.apps:edit', 'admin.apps:view', 'admin.audit:view', 'admin.webhooks:view']);
    expect(roleScopes(catalog, 'owner', false)).toEqual(['admin.apps:edit', 'admin.apps:full', 'admin.apps:view', 'admin.audit:view', 'admin.users:full', 'admin.webhooks:full', 'admin.webhooks:view']);
    expect(roleScopes(catalog, 'owner', true)).toContain('admin.orgs:full');
    expect(roleScopes(catalog, 'editor', true)).not.toContain('admin.orgs:full');
  });
});
