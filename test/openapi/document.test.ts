// The OpenAPI document: valid OpenAPI 3.1, checked in as `npm run openapi` writes it, and
// describing exactly the routes the app answers (read from the app, so a route added
// without its operation, or an operation left behind by a removed route, fails here).
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDocumentText, OPENAPI_FILE } from '../../src/openapi/document-file.js';
import { createTestContext, type TestContext } from '../helpers/context.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { security?: Record<string, string[]>[]; requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, unknown> }>>;
}

const documented = (doc: Document) =>
  Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();

describe('the OpenAPI document', () => {
  let ctx: TestContext;
  const text = defaultDocumentText();
  const doc = JSON.parse(text) as Document;
  beforeAll(async () => {
    ctx = await createTestContext({ dialect: 'sqlite' });
  });
  afterAll(async () => ctx?.close());

  it('is checked in as docs/openapi.json exactly as `npm run openapi` writes it', () => {
    const checkedIn = readFileSync(join(ROOT, OPENAPI_FILE), 'utf8');
    expect(checkedIn === text, `${OPENAPI_FILE} is stale: run \`npm run openapi\` and commit it`).toBe(true);
  });

  it('is valid OpenAPI 3.1 by the specification’s own schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scope-auth-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, text);
      const validator = new Validator();
      const result = await validator.validate(file);
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
      expect(validator.version).toBe('3.1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describes every route the app answers, and no other (method and path template)', () => {
    const registered = ctx.app.knownPaths
      // The console's pages (and `/`, which redirects to them) are HTML for people, not the API.
      .filter((known) => known.path !== '/' && known.path !== '/console' && !known.path.startsWith('/console/'))
      // Express answers HEAD with the GET route: the document lists the GET.
      .flatMap((known) => known.methods.filter((m) => m !== 'HEAD').map((method) => `${method} ${known.path.replace(/:(\w+)/g, '{$1}')}`))
      .sort();
    expect(documented(doc)).toEqual(registered);
  });

  it('asks for a token with the route’s scope, or a session with its CSRF token for a change', () => {
    const op = doc.paths['/v1/apps']!['post']!;
    expect(op.security).toEqual([{ bearerAuth: ['admin.apps:full'] }, { sessionCookie: [], csrfToken: [] }]);
    expect(doc.paths['/v1/apps']!['get']!.security).toEqual([{ bearerAuth: ['admin.apps:view'] }, { sessionCookie: [] }]);
    expect(doc.paths['/v1/token']!['post']!.security).toEqual([]);
    expect(doc.paths['/oauth2/introspect']!['post']!.security).toEqual([{ bearerAuth: ['tokens:introspect'] }]);
  });

  it('describes request bodies from the routes’ own schemas: a strict object with the route’s bounds', () => {
    const schema = doc.paths['/v1/token']!['post']!.requestBody!.content['application/json']!.schema;
    expect(schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['org_id', 'key_id', 'secret'],
      properties: { secret: { type: 'string', maxLength: 128 } },
    });
    const form = doc.paths['/oauth2/token']!['post']!.requestBody!.content['application/x-www-form-urlencoded']!.schema;
    expect(form).toMatchObject({ properties: { grant_type: { type: 'string' }, client_id: { type: 'string' } } });
  });

  it('answers errors as problem+json on the admin API and in the OAuth shape on the token endpoints', () => {
    expect(doc.paths['/v1/apps']!['post']!.responses['400']).toMatchObject({ content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });
    expect(doc.paths['/v1/token']!['post']!.responses['401']).toMatchObject({ content: { 'application/json': { schema: { $ref: '#/components/schemas/OAuthError' } } } });
  });
});
