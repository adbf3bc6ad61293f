// The document as a server with the default configuration answers it: what `npm run openapi`
// writes to docs/openapi.json, and what a test compares that file with.
import { loadConfig } from '../config.js';
import { sessionCookie } from '../http/session-cookie.js';
import { packageVersion } from '../version.js';
import { openApiDocument } from './document.js';

export const OPENAPI_FILE = 'docs/openapi.json';

export function defaultDocumentText(): string {
  const config = loadConfig({});
  const document = openApiDocument({ version: packageVersion(), tokenTtlMaxSeconds: config.tokenTtlMaxSeconds, sessionCookieName: sessionCookie(config.issuer).name });
  return `${JSON.stringify(document, null, 2)}\n`;
}
