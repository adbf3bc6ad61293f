// The scope catalogue: components with ordered levels, permissions with transitive
// `implies`, the built-in scopes of the admin API, and the audiences (downstream APIs) an
// app's tokens may be meant for. Expansion is precomputed once so
// the exchange does set lookups only.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import defaultCatalog from '../catalog/default-scopes.json' with { type: 'json' };
import { catalogSchema, type CatalogInput } from './catalog-schema.js';

export { AUDIENCE_MAX, type CatalogInput } from './catalog-schema.js';

export class CatalogError extends Error {
  override name = 'CatalogError';
}

export interface ScopeComponent {
  readonly name: string;
  readonly description: string;
  /** Lowest first; each level implies every lower one. */
  readonly levels: readonly string[];
  readonly builtin: boolean;
}

export interface ScopePermission {
  readonly name: string;
  readonly description: string;
  readonly implies: readonly string[];
  readonly builtin: boolean;
}

export interface CatalogAudience {
  readonly audience: string;
  readonly description: string;
}

export interface Catalog {
  readonly components: readonly ScopeComponent[];
  readonly permissions: readonly ScopePermission[];
  /** The operator's downstream APIs, as listed (see domain/audiences.ts for what an app may use). */
  readonly audiences: readonly CatalogAudience[];
  /** Every scope name, sorted. */
  readonly scopes: readonly string[];
  /** The built-in admin scopes, sorted. */
  readonly builtins: readonly string[];
  has(scope: string): boolean;
  /** The implication closure of `scopes`, sorted; names not in the catalogue are dropped. */
  expand(scopes: Iterable<string>): string[];
}

export const BUILTIN_CATALOG: CatalogInput = {
  components: [
    { name: 'admin.apps', description: 'Apps and API keys of the organization', levels: ['view', 'edit', 'full'] },
    { name: 'admin.webhooks', description: 'Webhooks of the organization: the endpoints its key and app events are sent to, and their deliveries', levels: ['view', 'full'] },
  ],
  permissions: [
    { name: 'admin.audit:view', description: 'Read the audit log of the organization' },
    { name: 'admin.orgs:full', description: 'Create and list organizations (root organization only)' },
    { name: 'admin.users:full', description: 'Invite, change, disable and delete the people of the organization' },
    { name: 'tokens:introspect', description: 'Introspect tokens (RFC 7662)' },
  ],
};

function parse(input: unknown, source: string): z.output<typeof catalogSchema> {
  const result = catalogSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new CatalogError(`scope catalogue ${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return result.data;
}

/** Builds a catalogue from the operator's JSON plus the built-ins; throws CatalogError on any inconsistency. */
export function buildCatalog(input: unknown, source = '(inline)'): Catalog {
  const operator = parse(input, source);
  const builtin = parse(BUILTIN_CATALOG, '(built-in)');
  const audiences = operator.audiences.map((a) => Object.freeze({ audience: a.audience, description: a.description }));
  const seen = new Set<string>();
  for (const { audience } of audiences) {
    if (seen.has(audience)) throw new CatalogError(`scope catalogue ${source}: audience "${audience}" is listed twice`);
    seen.add(audience);
  }
  const components: ScopeComponent[] = [
    ...builtin.components.map((c) => ({ ...c, builtin: true })),
    ...operator.components.map((c) => ({ ...c, builtin: false })),
  ];
  const permissions: ScopePermission[] = [
    ...builtin.permissions.map((p) => ({ ...p, builtin: true })),
    ...operator.permissions.map((p) => ({ ...p, builtin: false })),
  ];

  // Direct implications of each scope.
  const direct = new Map<string, string[]>();
  const define = (scope: string, implies: string[]) => {
    if (direct.has(scope)) throw new CatalogError(`scope catalogue ${source}: scope "${scope}" is defined twice`);
    direct.set(scope, implies);
  };
  for (const component of components) {
    if (new Set(component.levels).size !== component.levels.length) {
      throw new CatalogError(`scope catalogue ${source}: component "${component.name}" repeats a level`);
    }
    component.levels.forEach((level, i) => {
      define(`${component.name}:${level}`, i === 0 ? [] : [`${component.name}:${component.levels[i - 1]}`]);
    });
  }
  for (const permission of permissions) define(permission.name, [...permission.implies]);
  for (const [scope, implies] of direct) {
    for (const target of implies) {
      if (!direct.has(target)) {
        throw new CatalogError(`scope catalogue ${source}: "${scope}" implies unknown scope "${target}"`);
      }
    }
  }

  // Transitive closure with cycle detection (depth-first, three colours).
  const closure = new Map<string, ReadonlySet<string>>();
  const visiting = new Set<string>();
  const close = (scope: string, path: string[]): ReadonlySet<string> => {
    const done = closure.get(scope);
    if (done) return done;
    if (visiting.has(scope)) {
      throw new CatalogError(`scope catalogue ${source}: implication cycle ${[...path, scope].join(' -> ')}`);
    }
    visiting.add(scope);
    const set = new Set([scope]);
    for (const target of direct.get(scope) ?? []) for (const s of close(target, [...path, scope])) set.add(s);
    visiting.delete(scope);
    closure.set(scope, set);
    return set;
  };
  for (const scope of direct.keys()) close(scope, []);

  const scopes = [...direct.keys()].sort();
  const builtins = scopes.filter(
    (s) =>
      components.some((c) => c.builtin && s.startsWith(`${c.name}:`)) || permissions.some((p) => p.builtin && p.name === s),
  );
  return Object.freeze({
    components,
    permissions,
    audiences,
    scopes,
    builtins,
    has: (scope: string) => direct.has(scope),
    expand(input: Iterable<string>) {
      const out = new Set<string>();
      for (const scope of input) for (const s of closure.get(scope) ?? []) out.add(s);
      return [...out].sort();
    },
  });
}

/** The shipped default catalogue, or the operator's file when `path` is set. */
export function loadCatalog(path: string | null): Catalog {
  if (path === null) return buildCatalog(defaultCatalog, '(default)');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CatalogError(`scope catalogue ${path}: cannot be read as JSON (${(error as Error).message})`);
  }
  return buildCatalog(json, path);
}

/** Splits an OAuth `scope` parameter (space-delimited, RFC 6749 §3.3). */
export function parseScopeParam(scope: string): string[] {
  return scope.split(' ').filter((s) => s !== '');
}
