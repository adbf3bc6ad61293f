// Catalogue files for tests that need more than the shipped default: the default catalogue
// with members added (audiences, most often), written where SCOPE_AUTH_CATALOG can point.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import defaultCatalog from '../../src/catalog/default-scopes.json' with { type: 'json' };
import type { CatalogInput } from '../../src/domain/scopes.js';

/** Audiences most tests list: two downstream APIs of the operator. */
export const TEST_AUDIENCES = [
  { audience: 'https://api.example.com', description: 'The main API' },
  { audience: 'https://billing.example.com', description: 'Billing' },
] as const;

export interface CatalogFile {
  readonly path: string;
  remove(): void;
}

/** The default catalogue with `extra`'s members replacing or adding to its own, in a file. */
export function catalogFile(extra: Partial<CatalogInput>): CatalogFile {
  const dir = mkdtempSync(join(tmpdir(), 'scope-auth-catalog-'));
  const path = join(dir, 'scopes.json');
  writeFileSync(path, JSON.stringify({ ...defaultCatalog, ...extra }));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
