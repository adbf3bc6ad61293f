// The one home of "a known path with a method it does not take": 405 Method Not Allowed
// with an `Allow` header listing the ones it does (RFC 9110 §15.5.6), and OPTIONS answered
// with the same header. Express has no such answer: a wrong method fell through to the 404
// of an unknown path, after the admin routers had already asked for a token.
//
// The paths and methods are read from the express routers themselves, so a route added to
// a router is covered without a second list; the raw routes and the metadata document,
// which match paths by hand, are declared with exactPath. The guard runs first in the
// express app, before authentication: which methods a path takes is no secret (the API is
// documented), and a token should not be verified for a request that cannot succeed.
import type { Request, RequestHandler, Router } from 'express';
import { MethodNotAllowedError, OAuthError } from '../errors.js';
import { setRouteTemplate } from './request-durations.js';
import { setNoStore } from './request-context.js';
import { sendOAuthError } from './token-endpoint.js';

export interface KnownPath {
  /** As written in the routes: `/v1/apps/:app_id`. */
  readonly path: string;
  /** In a fixed order, HEAD wherever GET is (express answers HEAD with the GET route). */
  readonly methods: readonly string[];
  /** The token endpoints answer in the OAuth 2.0 error shape; every other path in problem+json. */
  readonly errors: 'oauth' | 'problem';
  matches(pathname: string): boolean;
}

const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

function ordered(methods: Iterable<string>): string[] {
  const set = new Set([...methods].map((m) => m.toUpperCase()));
  if (set.has('GET')) set.add('HEAD');
  const rank = (m: string) => (ORDER.includes(m) ? ORDER.indexOf(m) : ORDER.length);
  return [...set].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A path matched exactly, as the raw routes match theirs (see raw-routes.ts). */
export function exactPath(path: string, methods: readonly string[], errors: KnownPath['errors'] = 'problem'): KnownPath {
  return { path, methods: ordered(methods), errors, matches: (pathname) => pathname === path };
}

/** What express's router keeps of a route layer; `match` is the router's own path test (router 2.x). */
interface RouteLayer {
  readonly route?: { readonly path: unknown; readonly stack: readonly { readonly method?: string }[] };
  readonly match?: (path: string) => unknown;
}

/** Every route of `router`, by path, with the methods its handlers take. */
export function routerPaths(...routers: Router[]): KnownPath[] {
  // One entry per path across every router: two routers may each serve a method of one path.
  const byPath = new Map<string, { methods: Set<string>; layers: RouteLayer[] }>();
  for (const layer of routers.flatMap((router) => router.stack as unknown as RouteLayer[])) {
    const route = layer.route;
    if (route === undefined) continue;
    if (typeof route.path !== 'string' || typeof layer.match !== 'function') {
      // Fails every test at once should an express upgrade change what a router keeps.
      throw new Error('cannot read the routes of an express router: its layers have no path or match()');
    }
    const entry = byPath.get(route.path) ?? { methods: new Set<string>(), layers: [] };
    for (const handler of route.stack) if (handler.method !== undefined && handler.method !== '_all') entry.methods.add(handler.method);
    entry.layers.push(layer);
    byPath.set(route.path, entry);
  }
  return [...byPath].map(([path, { methods, layers }]) => ({
    path,
    methods: ordered(methods),
    errors: 'problem' as const,
    matches(pathname) {
      return layers.some((layer) => {
        try {
          return layer.match!(pathname) !== false;
        } catch {
          // A malformed escape (%E0): express will answer it; it is not this path.
          return false;
        }
      });
    },
  }));
}

/**
 * The methods `pathname` takes and the template of its route (the path written exactly, when
 * one is, rather than a pattern it also fits), or null when no known path matches it.
 */
export function allowedMethods(
  paths: readonly KnownPath[],
  pathname: string,
): { methods: string[]; errors: KnownPath['errors']; template: string } | null {
  const matching = paths.filter((known) => known.matches(pathname));
  if (matching.length === 0) return null;
  return {
    methods: ordered(matching.flatMap((known) => known.methods)),
    errors: matching.some((known) => known.errors === 'oauth') ? 'oauth' : 'problem',
    template: (matching.find((known) => known.path === pathname) ?? matching[0]!).path,
  };
}

/**
 * Express middleware: 405 + Allow for a known path and a method it does not take; 204 + Allow
 * to OPTIONS. It names the route template of every request on a known path for the request
 * metrics, here where the paths are matched anyway: also for an answer given before the
 * route itself runs (a 401 from authentication, a 405).
 */
export function methodGuard(paths: readonly KnownPath[]): RequestHandler {
  return (req: Request, res, next) => {
    const allowed = allowedMethods(paths, req.path);
    if (allowed !== null) setRouteTemplate(res, allowed.template);
    if (allowed === null || allowed.methods.includes(req.method)) return next();
    const allow = allowed.methods.join(', ');
    res.setHeader('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    const description = `${req.method.slice(0, 16)} is not allowed on ${req.path.slice(0, 200)}; allowed: ${allow}`;
    if (allowed.errors === 'oauth') {
      setNoStore(res);
      sendOAuthError(res, new OAuthError('invalid_request', 405, description));
      return;
    }
    throw new MethodNotAllowedError(description);
  };
}
