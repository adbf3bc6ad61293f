import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCatalogScopes } from '../../src/domain/grants.js';
import { buildCatalog, CatalogError, loadCatalog, parseScopeParam } from '../../src/domain/scopes.js';

const BUILTINS = ['admin.apps:edit', 'admin.apps:full', 'admin.apps:view', 'admin.audit:view', 'admin.orgs:full', 'admin.users:full', 'admin.webhooks:full', 'admin.webhooks:view', 'tokens:introspect'];

/** DESIGN "Scope catalogue": the default catalogue's scopes. */
const DESIGN_SCOPES = [
  'agents:view',
  'agents:edit',
  'agents:full',
  'connections:view',
  'connections:manage',
  'tools:deploy',
  'tools:undeploy',
  'tools:import',
  'tools:export',
  'models:deploy',
  'models:undeploy',
  'models:import',
  'models:export',
  'guardrails:deploy',
  'guardrails:undeploy',
  'runtime:run',
  'sessions:create',
  'sessions:terminate',
  'documents:upload',
];

const dir = mkdtempSync(join(tmpdir(), 'scope-auth-catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function writeCatalog(content: string): string {
  const path = join(dir, `catalog-${files++}.json`);
  writeFileSync(path, content);
  return path;
}

/** The CatalogError message thrown by `build`, failing the test if it does not throw one. */
function catalogErrorOf(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogError);
    return (error as CatalogError).message;
  }
  throw new Error('expected a CatalogError, but the catalogue was accepted');
}

describe('unknown-scope suggestions', () => {
  it('cost the main thread a few milliseconds at most for the worst list a body can carry', () => {
    const catalog = loadCatalog(null);
    // 200 names of 128 characters (the body's bounds), long and short, near and far from the catalogue.
    const bodies = [
      Array.from({ length: 200 }, (_, i) => `agents:vie${'w'.repeat(115)}${String(i).padStart(3, '0')}`),
      Array.from({ length: 200 }, (_, i) => `tools:deplo${String(i).padStart(3, '0')}`),
      Array.from({ length: 200 }, (_, i) => `${'x'.repeat(125)}${String(i).padStart(3, '0')}`),
    ];
    for (const scopes of bodies) {
      const started = process.cpuUsage();
      expect(() => checkCatalogScopes(catalog, scopes)).toThrow(/unknown scopes/);
      const { user, system } = process.cpuUsage(started);
      // Before the bound: 150–270 ms for the first list. A generous ceiling, far from both.
      expect((user + system) / 1000).toBeLessThan(40);
    }
  });
});

describe('the default catalogue', () => {
  const catalog = loadCatalog(null);

  it("contains exactly DESIGN's scopes plus the built-ins", () => {
    expect(catalog.scopes).toEqual([...DESIGN_SCOPES, ...BUILTINS].sort());
    expect(catalog.builtins).toEqual(BUILTINS);
  });

  it('lists the built-in admin.apps levels from lowest to highest', () => {
    const adminApps = catalog.components.find((c) => c.name === 'admin.apps');
    expect(adminApps).toMatchObject({ levels: ['view', 'edit', 'full'], builtin: true });
    expect(catalog.components.find((c) => c.name === 'agents')).toMatchObject({ levels: ['view', 'edit', 'full'], builtin: false });
  });

  it('knows its scopes and nothing else', () => {
    for (const scope of [...DESIGN_SCOPES, ...BUILTINS]) expect(catalog.has(scope), scope).toBe(true);
    for (const scope of ['agents', 'agents:none', 'admin.apps', 'tools:*', '', 'Agents:view']) expect(catalog.has(scope), scope).toBe(false);
  });

  it('makes a higher level imply every lower one', () => {
    expect(catalog.expand(['agents:full'])).toEqual(['agents:edit', 'agents:full', 'agents:view']);
    expect(catalog.expand(['agents:edit'])).toEqual(['agents:edit', 'agents:view']);
    expect(catalog.expand(['agents:view'])).toEqual(['agents:view']);
    expect(catalog.expand(['connections:manage'])).toEqual(['connections:manage', 'connections:view']);
    expect(catalog.expand(['admin.apps:full'])).toEqual(['admin.apps:edit', 'admin.apps:full', 'admin.apps:view']);
  });

  it('expands runtime:run to include sessions:create', () => {
    expect(catalog.expand(['runtime:run'])).toEqual(['runtime:run', 'sessions:create']);
  });

  it('expands to a sorted set without duplicates and drops unknown names', () => {
    expect(catalog.expand(['tools:deploy', 'agents:edit', 'nope:nothing', 'agents:view', 'runtime:run', 'tools:deploy'])).toEqual([
      'agents:edit',
      'agents:view',
      'runtime:run',
      'sessions:create',
      'tools:deploy',
    ]);
    expect(catalog.expand(['nope:nothing'])).toEqual([]);
    expect(catalog.expand([])).toEqual([]);
  });
});

describe('an operator catalogue', () => {
  it('makes implies transitive along a chain', () => {
    const catalog = buildCatalog({
      permissions: [
        { name: 'a:one', implies: ['a:two'] },
        { name: 'a:two', implies: ['a:three'] },
        { name: 'a:three', implies: ['a:four'] },
        { name: 'a:four' },
      ],
    });
    expect(catalog.expand(['a:one'])).toEqual(['a:four', 'a:one', 'a:three', 'a:two']);
    expect(catalog.expand(['a:two'])).toEqual(['a:four', 'a:three', 'a:two']);
    expect(catalog.expand(['a:four'])).toEqual(['a:four']);
  });

  it('lets a permission imply a component level, and through it every lower level', () => {
    const catalog = buildCatalog({
      components: [{ name: 'docs', levels: ['read', 'write', 'own'] }],
      permissions: [{ name: 'docs.publisher', implies: ['docs:write'] }],
    });
    expect(catalog.expand(['docs.publisher'])).toEqual(['docs.publisher', 'docs:read', 'docs:write']);
  });

  it('accepts a diamond of implications (shared targets are not a cycle)', () => {
    const catalog = buildCatalog({
      permissions: [{ name: 'top', implies: ['left', 'right'] }, { name: 'left', implies: ['bottom'] }, { name: 'right', implies: ['bottom'] }, { name: 'bottom' }],
    });
    expect(catalog.expand(['top'])).toEqual(['bottom', 'left', 'right', 'top']);
  });

  it('replaces the default catalogue but keeps the built-ins', () => {
    const path = writeCatalog(
      JSON.stringify({
        components: [{ name: 'reports', description: 'Reports', levels: ['read', 'write'] }],
        permissions: [{ name: 'billing:charge', description: 'Charge a card' }],
      }),
    );
    const catalog = loadCatalog(path);
    expect(catalog.scopes).toEqual(['billing:charge', 'reports:read', 'reports:write', ...BUILTINS].sort());
    expect(catalog.builtins).toEqual(BUILTINS);
    expect(catalog.has('agents:view')).toBe(false);
    expect(catalog.expand(['admin.apps:edit', 'reports:write'])).toEqual(['admin.apps:edit', 'admin.apps:view', 'reports:read', 'reports:write']);
  });

  it('may be empty, leaving only the built-ins', () => {
    expect(loadCatalog(writeCatalog('{}')).scopes).toEqual(BUILTINS);
    expect(loadCatalog(writeCatalog('{}')).audiences).toEqual([]);
  });

  it('lists the audiences an app may name, in the order given, descriptions defaulting to empty', () => {
    const catalog = buildCatalog({
      audiences: [{ audience: 'https://api.example.com', description: 'The main API' }, { audience: 'urn:billing' }],
    });
    expect(catalog.audiences).toEqual([
      { audience: 'https://api.example.com', description: 'The main API' },
      { audience: 'urn:billing', description: '' },
    ]);
  });

  describe('is refused at startup with a message naming the problem when it', () => {
    it('has a permission that implies itself', () => {
      const message = catalogErrorOf(() => buildCatalog({ permissions: [{ name: 'a:self', implies: ['a:self'] }] }));
      expect(message).toMatch(/cycle/);
      expect(message).toContain('a:self -> a:self');
    });

    it('has a cycle of three permissions', () => {
      const message = catalogErrorOf(() =>
        buildCatalog({
          permissions: [
            { name: 'c:one', implies: ['c:two'] },
            { name: 'c:two', implies: ['c:three'] },
            { name: 'c:three', implies: ['c:one'] },
          ],
        }),
      );
      expect(message).toMatch(/implication cycle/);
      for (const scope of ['c:one', 'c:two', 'c:three']) expect(message).toContain(scope);
    });

    it('refers to an unknown scope', () => {
      const message = catalogErrorOf(() => buildCatalog({ permissions: [{ name: 'runtime:run', implies: ['sessions:create'] }] }));
      expect(message).toContain('"runtime:run" implies unknown scope "sessions:create"');
    });

    it('defines a scope twice', () => {
      const message = catalogErrorOf(() => buildCatalog({ permissions: [{ name: 'tools:deploy' }, { name: 'tools:deploy' }] }));
      expect(message).toContain('"tools:deploy" is defined twice');
    });

    it('defines a permission that a component level already defines', () => {
      const message = catalogErrorOf(() =>
        buildCatalog({ components: [{ name: 'agents', levels: ['view'] }], permissions: [{ name: 'agents:view' }] }),
      );
      expect(message).toContain('"agents:view" is defined twice');
    });

    it('redefines a built-in scope', () => {
      expect(catalogErrorOf(() => buildCatalog({ permissions: [{ name: 'tokens:introspect' }] }))).toContain(
        '"tokens:introspect" is defined twice',
      );
      expect(catalogErrorOf(() => buildCatalog({ components: [{ name: 'admin.apps', levels: ['view'] }] }))).toContain(
        '"admin.apps:view" is defined twice',
      );
    });

    it('lists an audience twice', () => {
      const message = catalogErrorOf(() => buildCatalog({ audiences: [{ audience: 'https://a.example' }, { audience: 'https://a.example' }] }));
      expect(message).toContain('audience "https://a.example" is listed twice');
    });

    it('repeats a level of a component', () => {
      const message = catalogErrorOf(() => buildCatalog({ components: [{ name: 'agents', levels: ['view', 'edit', 'view'] }] }));
      expect(message).toContain('component "agents" repeats a level');
    });

    it.each([
      ['a top-level array', [], '(root)'],
      ['components that are not a list', { components: 'agents' }, 'components'],
      ['a component without levels', { components: [{ name: 'agents', levels: [] }] }, 'components.0.levels'],
      ['a component name with a colon', { components: [{ name: 'a:b', levels: ['view'] }] }, 'components.0.name'],
      ['a permission with an upper-case name', { permissions: [{ name: 'Tools:deploy' }] }, 'permissions.0.name'],
      ['a permission with two colons', { permissions: [{ name: 'a:b:c' }] }, 'permissions.0.name'],
      ['implies that is not a list', { permissions: [{ name: 'a:b', implies: 'c:d' }] }, 'permissions.0.implies'],
      ['an unknown member', { permissions: [{ name: 'a:b', requires: [] }] }, 'permissions.0'],
      ['an unknown top-level member', { scopes: [] }, '(root)'],
      ['audiences that are not a list', { audiences: 'https://a.example' }, 'audiences'],
      ['an empty audience', { audiences: [{ audience: '' }] }, 'audiences.0.audience'],
      ['an audience with surrounding spaces', { audiences: [{ audience: ' https://a.example' }] }, 'audiences.0.audience'],
      ['an audience with a control character', { audiences: [{ audience: 'https://a.example\n' }] }, 'audiences.0.audience'],
      ['an audience of 201 characters', { audiences: [{ audience: 'a'.repeat(201) }] }, 'audiences.0.audience'],
      ['an audience with an unknown member', { audiences: [{ audience: 'https://a.example', scopes: [] }] }, 'audiences.0'],
    ])('has the wrong shape: %s', (_what, input, path) => {
      const message = catalogErrorOf(() => buildCatalog(input, 'ops.json'));
      expect(message).toContain(`scope catalogue ops.json: ${path}`);
    });

    it('is not valid JSON', () => {
      const path = writeCatalog('{ "permissions": [ ');
      const message = catalogErrorOf(() => loadCatalog(path));
      expect(message).toContain(path);
      expect(message).toContain('cannot be read as JSON');
    });

    it('is valid JSON of the wrong shape, naming the file', () => {
      const path = writeCatalog('{ "permissions": [ { "name": 42 } ] }');
      const message = catalogErrorOf(() => loadCatalog(path));
      expect(message).toContain(`scope catalogue ${path}: permissions.0.name`);
    });

    it('does not exist', () => {
      const path = join(dir, 'missing.json');
      const message = catalogErrorOf(() => loadCatalog(path));
      expect(message).toContain(path);
      expect(message).toContain('ENOENT');
    });

    it.skipIf(process.getuid?.() === 0)('cannot be read', () => {
      const path = writeCatalog('{}');
      chmodSync(path, 0o000);
      const message = catalogErrorOf(() => loadCatalog(path));
      expect(message).toContain(path);
      expect(message).toContain('EACCES');
    });

    it('is a directory', () => {
      const message = catalogErrorOf(() => loadCatalog(dir));
      expect(message).toContain(dir);
      expect(message).toContain('EISDIR');
    });
  });
});

describe('parseScopeParam', () => {
  it('splits on spaces and ignores empty entries', () => {
    expect(parseScopeParam('agents:view  runtime:run ')).toEqual(['agents:view', 'runtime:run']);
    expect(parseScopeParam('')).toEqual([]);
  });
});
