// The catalogue's JSON Schema: checked in as `npm run openapi` writes it, and agreeing with
// the zod schema the server validates with, checked by a standard JSON Schema validator on the
// shipped catalogue and on bad ones (which buildCatalog refuses too). A starting server
// refuses a bad file naming the file and the field.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import defaultCatalog from '../../src/catalog/default-scopes.json' with { type: 'json' };
import { run, type CliIo } from '../../src/cli/index.js';
import { CATALOG_SCHEMA_FILE, catalogJsonSchemaText } from '../../src/domain/catalog-schema.js';
import { buildCatalog, CatalogError, loadCatalog } from '../../src/domain/scopes.js';
import { TEST_ENV } from '../helpers/context.js';

const ROOT = join(import.meta.dirname, '..', '..');
const text = catalogJsonSchemaText();
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(text) as object);

const dir = mkdtempSync(join(tmpdir(), 'scope-auth-catalog-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Catalogues of the wrong shape: what both the JSON Schema and the server refuse, and where. */
const BAD: [string, unknown, string][] = [
  ['a top-level array', [], '(root)'],
  ['an unknown top-level member', { scopes: [] }, '(root)'],
  ['a $schema that is not a string', { $schema: 42 }, '$schema'],
  ['components that are not a list', { components: 'agents' }, 'components'],
  ['a component without levels', { components: [{ name: 'agents', levels: [] }] }, 'components.0.levels'],
  ['a component name with a colon', { components: [{ name: 'a:b', levels: ['view'] }] }, 'components.0.name'],
  ['a level with an upper-case letter', { components: [{ name: 'agents', levels: ['View'] }] }, 'components.0.levels.0'],
  ['a component description of 501 characters', { components: [{ name: 'agents', levels: ['view'], description: 'x'.repeat(501) }] }, 'components.0.description'],
  ['a permission with two colons', { permissions: [{ name: 'a:b:c' }] }, 'permissions.0.name'],
  ['a permission with an unknown member', { permissions: [{ name: 'a:b', requires: [] }] }, 'permissions.0'],
  ['implies that is not a list', { permissions: [{ name: 'a:b', implies: 'c:d' }] }, 'permissions.0.implies'],
  ['an empty audience', { audiences: [{ audience: '' }] }, 'audiences.0.audience'],
  ['an audience with surrounding spaces', { audiences: [{ audience: 'https://a.example ' }] }, 'audiences.0.audience'],
  ['an audience with a control character', { audiences: [{ audience: 'https://a\u0007.example' }] }, 'audiences.0.audience'],
  ['an audience of 201 characters', { audiences: [{ audience: 'a'.repeat(201) }] }, 'audiences.0.audience'],
  ['1001 audiences', { audiences: Array.from({ length: 1001 }, (_, i) => ({ audience: `urn:api:${i}` })) }, 'audiences'],
];

function catalogErrorOf(input: unknown): string {
  try {
    buildCatalog(input, 'ops.json');
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogError);
    return (error as CatalogError).message;
  }
  throw new Error('expected a CatalogError, but the catalogue was accepted');
}

describe('the catalogue JSON Schema', () => {
  it(`is checked in as ${CATALOG_SCHEMA_FILE} exactly as \`npm run openapi\` writes it`, () => {
    const checkedIn = readFileSync(join(ROOT, CATALOG_SCHEMA_FILE), 'utf8');
    expect(checkedIn === text, `${CATALOG_SCHEMA_FILE} is stale: run \`npm run openapi\` and commit it`).toBe(true);
  });

  it('is JSON Schema 2020-12 with an id, a title and a description on every member', () => {
    const schema = JSON.parse(text) as Record<string, unknown>;
    expect(schema).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'urn:scope-auth:catalog', title: 'scope-auth scope catalogue' });
    const undescribed: string[] = [];
    const walk = (node: Record<string, unknown>, path: string) => {
      for (const [name, member] of Object.entries((node['properties'] ?? {}) as Record<string, Record<string, unknown>>)) {
        if (typeof member['description'] !== 'string') undescribed.push(`${path}.${name}`);
        walk(member, `${path}.${name}`);
      }
      if (node['items']) walk(node['items'] as Record<string, unknown>, `${path}[]`);
    };
    walk(schema, '');
    expect(undescribed).toEqual([]);
  });

  it('accepts the shipped catalogue, whose $schema names it, and the server loads it the same', () => {
    expect(defaultCatalog.$schema).toBe(`../../${CATALOG_SCHEMA_FILE}`);
    expect(validate(defaultCatalog), JSON.stringify(validate.errors)).toBe(true);
    expect(buildCatalog(defaultCatalog).scopes).toEqual(loadCatalog(null).scopes);
  });

  it('accepts a catalogue with every member, as the server does', () => {
    const full = {
      $schema: 'node_modules/scope-auth/docs/catalog.schema.json',
      components: [{ name: 'agents', description: 'Agents', levels: ['view', 'edit', 'full'] }],
      permissions: [{ name: 'runtime:run', description: 'Run', implies: ['agents:view'] }, { name: 'billing' }],
      audiences: [{ audience: 'https://api.example.com', description: 'The main API' }, { audience: 'urn:billing' }],
    };
    expect(validate(full), JSON.stringify(validate.errors)).toBe(true);
    expect(buildCatalog(full).scopes).toContain('runtime:run');
  });

  it.each(BAD)('refuses %s at the same place as the server', (_what, input, path) => {
    expect(validate(input)).toBe(false);
    const pointer = path === '(root)' ? '' : `/${path.replaceAll('.', '/')}`;
    expect(validate.errors!.map((e) => e.instancePath)).toContain(pointer);
    expect(catalogErrorOf(input)).toContain(`scope catalogue ops.json: ${path}: `);
  });

  it('leaves to the server what JSON Schema cannot say: references, cycles and names defined twice', () => {
    const semantic = [
      { permissions: [{ name: 'a:b', implies: ['c:d'] }] },
      { permissions: [{ name: 'a:b', implies: ['a:b'] }] },
      { permissions: [{ name: 'a:b' }, { name: 'a:b' }] },
      { audiences: [{ audience: 'urn:a' }, { audience: 'urn:a' }] },
    ];
    for (const input of semantic) {
      expect(validate(input)).toBe(true);
      expect(() => buildCatalog(input)).toThrow(CatalogError);
    }
  });
});

describe('a starting server with a bad catalogue file', () => {
  it('stops with one line naming the file and the field', async () => {
    const path = join(dir, 'scopes.json');
    writeFileSync(path, JSON.stringify({ components: [{ name: 'agents', levels: [] }] }));
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { ...TEST_ENV, SCOPE_AUTH_CATALOG: path, SCOPE_AUTH_DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, SCOPE_AUTH_KEYS_DIR: join(dir, 'keys'), SCOPE_AUTH_PORT: '0' },
      isTTY: false,
    };
    expect(await run(['serve'], io)).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`scope-auth: scope catalogue ${path}: components.0.levels: Too small: expected array to have >=1 items\n`);
  });
});
