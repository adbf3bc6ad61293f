// The scope catalogue's file format, as one zod schema: the server validates a catalogue
// with it at startup, and `npm run openapi` writes it as JSON Schema (docs/catalog.schema.json)
// for editors and other tools. The descriptions here are the format's reference, so the
// two cannot drift apart.
import { z } from 'zod';

const NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
const SCOPE = /^[a-z][a-z0-9_.-]{0,63}(:[a-z0-9_.-]{1,64})?$/;
// Non-empty, no control characters, nothing String#trim would strip at either end; a
// pattern rather than a refinement so the JSON Schema carries the rule too.
// eslint-disable-next-line no-control-regex
const AUDIENCE = /^(?!\s)(?![\s\S]*\s$)[^\u0000-\u001f\u007f]+$/;
/** As an app's `audience`: at most 200 characters. */
export const AUDIENCE_MAX = 200;
const DESCRIPTION_MAX = 500;

const description = (what: string) =>
  z.string().max(DESCRIPTION_MAX).default('').describe(`What ${what} is for, as the console and \`GET /v1/scopes\` show it; at most ${DESCRIPTION_MAX} characters.`);

const component = z
  .strictObject({
    name: z
      .string()
      .regex(NAME, 'a component name is lowercase letters, digits, . _ -')
      .describe('The first part of the component\'s scopes (`agents` gives `agents:view`, …): a lowercase letter, then up to 63 lowercase letters, digits, `.`, `_` or `-`.'),
    description: description('the component'),
    levels: z
      .array(z.string().regex(NAME).describe('A level name, spelled as a component name is.'))
      .min(1)
      .describe('The levels, lowest first; each one implies every lower one (`agents:full` gives `agents:edit` and `agents:view`). Granting none of them is "None".'),
  })
  .describe('A component: one scope per level, `name:level`.');

const permission = z
  .strictObject({
    name: z
      .string()
      .regex(SCOPE, 'a permission is lowercase letters, digits, . _ - with one optional ":"')
      .describe('The scope, such as `runtime:run`: a name as for a component, then optionally `:` and 1 to 64 lowercase letters, digits, `.`, `_` or `-`.'),
    description: description('the permission'),
    implies: z
      .array(z.string().describe('A scope the catalogue defines (a component\'s level, another permission or a built-in).'))
      .default([])
      .describe('Scopes a grant of this permission includes, transitively; each must exist, and no chain may lead back to this one.'),
  })
  .describe('A permission: one scope on its own.');

const audience = z
  .strictObject({
    audience: z
      .string()
      .max(AUDIENCE_MAX, `an audience is at most ${AUDIENCE_MAX} characters`)
      .regex(AUDIENCE, 'an audience is a non-empty string without control characters or surrounding spaces')
      .describe(`A downstream API's identifier, as its tokens' \`aud\` carries it (usually its URL): 1 to ${AUDIENCE_MAX} characters, no control characters, no surrounding spaces; each listed once.`),
    description: description('the downstream API'),
  })
  .describe('A downstream API an app\'s tokens may be meant for.');

export const catalogSchema = z
  .strictObject({
    $schema: z.string().optional().describe('The JSON Schema of this file, for editors; the server ignores it.'),
    components: z.array(component).default([]).describe('Components, each with ordered levels.'),
    permissions: z.array(permission).default([]).describe('Permissions, each a single scope, with what it implies.'),
    audiences: z
      .array(audience)
      .max(1000)
      .default([])
      .describe('The downstream APIs an app\'s `audience` may name, at most 1000; besides these, only the server\'s default audience (`SCOPE_AUTH_AUDIENCE`).'),
  })
  .meta({
    title: 'scope-auth scope catalogue',
    description:
      'The scopes apps may be granted, and the audiences their tokens may be for. The built-in admin scopes (`admin.apps:view|edit|full`, `admin.audit:view`, `admin.orgs:full`, `admin.users:full`, `admin.webhooks:view|full`, `tokens:introspect`) are always added; a scope defined twice, an `implies` naming an unknown scope, or an implication cycle also stop the server.',
  });
export type CatalogInput = z.input<typeof catalogSchema>;

export const CATALOG_SCHEMA_FILE = 'docs/catalog.schema.json';
export const CATALOG_SCHEMA_ID = 'urn:scope-auth:catalog';

/** The JSON Schema (2020-12) of a catalogue file, as `npm run openapi` writes it. */
export function catalogJsonSchemaText(): string {
  const { $schema, title, description, ...rest } = z.toJSONSchema(catalogSchema, { target: 'draft-2020-12', io: 'input' });
  return `${JSON.stringify({ $schema, $id: CATALOG_SCHEMA_ID, title, description, ...rest }, null, 2)}\n`;
}
