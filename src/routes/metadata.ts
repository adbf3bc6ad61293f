// GET /.well-known/oauth-authorization-server: RFC 8414 metadata, so a client library can
// discover the token endpoint and a resource server the JWKS from the issuer URL alone.
// Built once: it depends only on the configuration and the scope catalogue.
import { Router } from 'express';
import type { Config } from '../config.js';
import type { Catalog } from '../domain/scopes.js';
import { cachedJson, sendCachedJson } from '../http/cached-json.js';

export const METADATA_PATH = '/.well-known/oauth-authorization-server';

/**
 * The document changes only when the server restarts with another configuration or
 * catalogue; an hour of staleness at worst delays a client learning a new scope name.
 */
export const METADATA_MAX_AGE_SECONDS = 3600;

export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
  readonly scopes_supported: readonly string[];
  readonly response_types_supported: readonly string[];
  readonly grant_types_supported: readonly string[];
  readonly token_endpoint_auth_methods_supported: readonly string[];
  readonly introspection_endpoint: string;
  readonly introspection_endpoint_auth_methods_supported: readonly string[];
}

export function authorizationServerMetadata(config: Pick<Config, 'issuer'>, catalog: Pick<Catalog, 'scopes'>): AuthorizationServerMetadata {
  const { issuer } = config;
  return {
    // Exactly SCOPE_AUTH_ISSUER, the `iss` of every token: clients compare it byte for byte (§3.3).
    issuer,
    token_endpoint: `${issuer}/oauth2/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    scopes_supported: [...catalog.scopes],
    // §2 makes this member REQUIRED, yet the server has no authorization endpoint and so
    // supports no response type at all. Any value would advertise a flow that does not exist
    // ("token" is the implicit grant, "code" the authorization code grant), and omitting the
    // member breaks clients that treat it as required. The empty list is the truthful value;
    // RFC 8414 erratum 7793 records this conflict for client-credentials-only servers.
    // oauth4webapi does not inspect the member.
    response_types_supported: [],
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    introspection_endpoint: `${issuer}/oauth2/introspect`,
    // §2: values come from the token endpoint auth methods registry or, for a caller that
    // presents an access token, the IANA "OAuth Access Token Types" registry, whose entry is "Bearer".
    introspection_endpoint_auth_methods_supported: ['Bearer'],
  };
}

/**
 * Where the document is answered. §3.1: for an issuer with a path (https://host/auth) it
 * lives at /.well-known/oauth-authorization-server/auth; a proxy forwarding that path here
 * finds it.
 */
export function metadataPaths(issuer: string): string[] {
  const issuerPath = new URL(issuer).pathname.replace(/\/+$/, '');
  return issuerPath === '' ? [METADATA_PATH] : [METADATA_PATH, `${METADATA_PATH}${issuerPath}`];
}

export function metadataRoutes(deps: { config: Pick<Config, 'issuer'>; catalog: Pick<Catalog, 'scopes'> }): Router {
  const router = Router();
  const document = cachedJson(authorizationServerMetadata(deps.config, deps.catalog));
  const paths = new Set(metadataPaths(deps.config.issuer));
  // Compared as plain strings: an issuer path may hold characters (: * ( )) that an
  // Express route pattern would read as syntax.
  router.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !paths.has(req.path)) return next();
    sendCachedJson(req, res, document, METADATA_MAX_AGE_SECONDS);
  });
  return router;
}
