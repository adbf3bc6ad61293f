import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { checkAllowance, checkWithinAllowance, defaultAllowance, effectiveAllowance, storedTokenScopes, tokenScopes } from '../../src/domain/allowances.js';
import { loadCatalog } from '../../src/domain/scopes.js';
import { InvalidRequestError } from '../../src/errors.js';
import { invalidRequestOf } from '../helpers/thrown.js';

const catalog = loadCatalog(null);
const operatorScopes = catalog.scopes.filter((s) => !catalog.builtins.includes(s));

describe('an org allowance', () => {
  it('stored as null allows every non-admin scope of the catalogue', () => {
    expect(effectiveAllowance(catalog, null)).toEqual(operatorScopes);
  });

  it('expands levels and implications as grants do', () => {
    expect(effectiveAllowance(catalog, ['agents:edit', 'runtime:run'])).toEqual(['agents:edit', 'agents:view', 'runtime:run', 'sessions:create']);
    expect(effectiveAllowance(catalog, [])).toEqual([]);
  });

  it('is stored sorted and unique, from catalogue scopes only', () => {
    expect(checkAllowance(catalog, ['runtime:run', 'agents:view', 'runtime:run'])).toEqual(['agents:view', 'runtime:run']);
    const unknown = invalidRequestOf(() => checkAllowance(catalog, ['agents:veiw']));
    expect(unknown.message).toMatch(/^allowed_scopes: unknown scope "agents:veiw" \(did you mean "agents:view"\?\)/);
    expect(unknown.extra).toMatchObject({ unknown_scopes: ['agents:veiw'] });
  });

  it('cannot name the built-in admin scopes, which allowances do not govern', () => {
    const error = invalidRequestOf(() => checkAllowance(catalog, ['agents:view', 'admin.apps:full', 'tokens:introspect']));
    expect(error.message).toContain('admin.apps:full, tokens:introspect are built in and outside allowances');
    expect(error.extra).toMatchObject({ admin_scopes: ['admin.apps:full', 'tokens:introspect'] });
  });

  it('names at most 200 scopes', () => {
    expect(invalidRequestOf(() => checkAllowance(catalog, Array.from({ length: 201 }, () => 'agents:view'))).message).toContain('at most 200');
  });
});

describe('granting within an allowance', () => {
  it('lets anything through when the allowance is every scope', () => {
    expect(() => checkWithinAllowance(catalog, null, { scopes: ['runtime:run', 'agents:full'] })).not.toThrow();
  });

  it('refuses a scope outside the allowance, naming it and what is allowed', () => {
    const error = invalidRequestOf(() => checkWithinAllowance(catalog, ['agents:edit'], { scopes: ['agents:view', 'agents:full', 'runtime:run'] }));
    expect(error.message).toMatch(/^scopes: agents:full, runtime:run are outside this organization's allowance \(agents:edit agents:view\)/);
    expect(error.extra).toEqual({ outside_allowance: ['agents:full', 'runtime:run'], allowed_scopes: ['agents:edit', 'agents:view'] });
  });

  it('never counts the admin scopes against it', () => {
    expect(() => checkWithinAllowance(catalog, [], { scopes: ['admin.apps:full', 'admin.audit:view'] })).not.toThrow();
  });

  it('lets an app keep what it already holds beyond a since narrowed allowance, so it can be narrowed', () => {
    expect(() => checkWithinAllowance(catalog, ['agents:view'], { scopes: ['agents:edit', 'agents:view'], current: ['agents:full'] })).not.toThrow();
    expect(() => checkWithinAllowance(catalog, ['agents:view'], { scopes: ['tools:deploy'], current: ['agents:full'] })).toThrow(InvalidRequestError);
  });
});

describe('the scopes a token carries', () => {
  it('are the app grant expanded when the allowance is every scope', () => {
    expect(tokenScopes(catalog, ['agents:edit', 'admin.apps:view'], null)).toEqual(['admin.apps:view', 'agents:edit', 'agents:view']);
  });

  it('are the part of the expanded grant inside the expanded allowance, admin scopes kept', () => {
    expect(tokenScopes(catalog, ['agents:full', 'runtime:run', 'admin.audit:view'], ['agents:view', 'sessions:create'])).toEqual([
      'admin.audit:view',
      'agents:view',
      'sessions:create',
    ]);
    expect(tokenScopes(catalog, ['tools:deploy'], [])).toEqual([]);
  });
});

describe('the scopes a token carries, from the stored lists the exchange reads', () => {
  it('are computed once per pair of lists and told apart by allowance', () => {
    const scopesOf = storedTokenScopes(catalog);
    const app = JSON.stringify(['agents:full', 'runtime:run']);
    const everything = scopesOf(app, null);
    expect(everything).toEqual(['agents:edit', 'agents:full', 'agents:view', 'runtime:run', 'sessions:create']);
    expect(scopesOf(app, null)).toBe(everything);
    expect(scopesOf(app, JSON.stringify(['agents:view']))).toEqual(['agents:view']);
    expect(scopesOf(app, JSON.stringify([]))).toEqual([]);
    expect(Object.isFrozen(everything)).toBe(true);
  });

  it("narrows to a key's own scopes, remembered per key list, implications kept", () => {
    const scopesOf = storedTokenScopes(catalog);
    const app = JSON.stringify(['agents:full', 'runtime:run']);
    const key = JSON.stringify(['agents:edit', 'runtime:run', 'tools:deploy']);
    const narrowed = scopesOf(app, null, key);
    // tools:deploy is the key's but not the app's: the key never widens its app.
    expect(narrowed).toEqual(['agents:edit', 'agents:view', 'runtime:run', 'sessions:create']);
    expect(scopesOf(app, null, key)).toBe(narrowed);
    expect(scopesOf(app, JSON.stringify(['agents:view', 'runtime:run']), key)).toEqual(['agents:view', 'runtime:run', 'sessions:create']);
    // Without a list of its own, the app's (within the allowance), as before.
    expect(scopesOf(app, null, null)).toEqual(scopesOf(app, null));
    expect(tokenScopes(catalog, ['agents:full'], null, ['agents:view'])).toEqual(['agents:view']);
  });
});

describe('SCOPE_AUTH_ORG_DEFAULT_SCOPES', () => {
  it('empty gives new orgs every non-admin scope (stored as null)', () => {
    expect(defaultAllowance(catalog, [])).toBeNull();
  });

  it('gives new orgs the scopes it names, sorted', () => {
    expect(defaultAllowance(catalog, ['runtime:run', 'agents:view'])).toEqual(['agents:view', 'runtime:run']);
  });

  it.each([
    [['agents:veiw'], 'the scope catalogue has no agents:veiw'],
    [['agents:view', 'admin.apps:full'], 'admin.apps:full: admin scopes are outside allowances'],
  ])('is a configuration error naming the variable for %j', (configured, why) => {
    let error: unknown;
    try {
      defaultAllowance(catalog, configured);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^SCOPE_AUTH_ORG_DEFAULT_SCOPES=".*" is invalid: /);
    expect((error as Error).message).toContain(why);
  });
});
