// npm run openapi: writes the checked-in reference documents, each a test fails on while the
// file is not what this writes: docs/openapi.json, the OpenAPI 3.1 document of the HTTP API as
// a server with the default configuration serves it at GET /openapi.json (run it after
// changing a route), and docs/catalog.schema.json, the JSON Schema of a scope catalogue file
// (run it after changing the catalogue's format).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogJsonSchemaText, CATALOG_SCHEMA_FILE } from '../src/domain/catalog-schema.js';
import { defaultDocumentText, OPENAPI_FILE } from '../src/openapi/document-file.js';

const root = join(import.meta.dirname, '..');
for (const [file, text] of [
  [OPENAPI_FILE, defaultDocumentText()],
  [CATALOG_SCHEMA_FILE, catalogJsonSchemaText()],
] as const) {
  writeFileSync(join(root, file), text);
  console.log(`wrote ${file}`);
}
