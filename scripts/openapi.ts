// npm run openapi: writes docs/openapi.json, the OpenAPI 3.1 document of the HTTP API as a
// server with the default configuration serves it at GET /openapi.json. A test fails while
// the file is not what this writes: run it after changing a route.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultDocumentText, OPENAPI_FILE } from '../src/openapi/document-file.js';

writeFileSync(join(import.meta.dirname, '..', OPENAPI_FILE), defaultDocumentText());
console.log(`wrote ${OPENAPI_FILE}`);
