// The endpoints every client and verifier meets: the two token endpoints, introspection, the
// metadata and key set documents, health, metrics and this document itself.
import { INTROSPECT_PATH, INTROSPECT_SCOPE, introspectForm } from '../routes/introspect.js';
import { JWKS_PATH } from '../routes/jwks.js';
import { METADATA_PATH } from '../routes/metadata.js';
import { OAUTH_TOKEN_PATH, tokenForm } from '../routes/oauth.js';
import { OPENAPI_PATH } from '../routes/openapi.js';
import { TOKEN_PATH, tokenRequest } from '../routes/token.js';
import { string, type JsonSchema } from './schema.js';
import type { Answer, Operation } from './operations.js';

const oauthError = (description: string, headers?: Record<string, string>): Answer => ({ description, body: 'OAuthError', ...(headers ? { headers } : {}) });
const retryAfter = { 'Retry-After': 'Seconds to wait.' };

const tokenAnswers: Readonly<Record<string, Answer>> = {
  '200': { description: 'The access token (`Cache-Control: no-store`).', body: 'TokenResponse' },
  '400': oauthError('`invalid_request` (naming the field), `invalid_scope` (a scope the app does not grant), `unsupported_grant_type`.'),
  '401': oauthError('`invalid_client`: one identical answer for an unknown, revoked or expired key, a wrong secret, a disabled org.'),
  '413': oauthError('A body over 64 KiB (`invalid_request`).'),
  '415': oauthError('A body of another content type (`invalid_request`).'),
  '429': oauthError('`slow_down`: too many failed attempts from this client or on this key.', retryAfter),
  '503': oauthError('`temporarily_unavailable`: busy verifying other credentials, or the database is away.', retryAfter),
};

const cached = (description: string, body: string): Answer => ({
  description,
  body,
  headers: { ETag: 'Send it back as `If-None-Match`.', 'Cache-Control': '`public, max-age=…`' },
});
const notModified: Answer = { description: 'Not modified (the `If-None-Match` ETag is current).' };

const readiness: JsonSchema = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready', 'draining'] },
    checks: {
      type: 'object',
      properties: { database: { type: 'string', enum: ['ok', 'unreachable', 'timeout'] }, signing_key: { type: 'string', enum: ['ok', 'missing'] } },
    },
  },
};

export function publicOperations(): Operation[] {
  return [
    {
      method: 'post',
      path: TOKEN_PATH,
      tag: 'Tokens',
      summary: 'Exchange an org id, key id and secret for an access token',
      description: '`scope` (space-separated) asks for fewer scopes than the app grants; absent, every one.',
      caller: { kind: 'public' },
      body: tokenRequest,
      oauthErrors: true,
      answers: tokenAnswers,
    },
    {
      method: 'post',
      path: OAUTH_TOKEN_PATH,
      tag: 'Tokens',
      summary: 'OAuth 2.0 client credentials grant (RFC 6749 §4.4)',
      description:
        '`client_id` is the key id, `client_secret` its secret: as HTTP Basic (`client_secret_basic`) or in the body (`client_secret_post`), not both. Credentials in the URL are refused.',
      caller: { kind: 'public' },
      // HTTP Basic, or nothing but the body's client_secret.
      security: [{ clientBasic: [] }, {}],
      body: tokenForm,
      bodyType: 'application/x-www-form-urlencoded',
      bodyRequired: true,
      oauthErrors: true,
      answers: tokenAnswers,
    },
    {
      method: 'post',
      path: INTROSPECT_PATH,
      tag: 'Tokens',
      summary: 'Introspect a token (RFC 7662): the online check',
      description: 'The caller’s org is the tenant whose tokens it may ask about: another org’s token is inactive.',
      caller: { kind: 'bearer', scopes: [INTROSPECT_SCOPE] },
      body: introspectForm,
      bodyType: 'application/x-www-form-urlencoded',
      answers: { '200': { description: 'Whether the token is active, and its claims when it is.', body: 'Introspection' } },
    },
    {
      method: 'get',
      path: METADATA_PATH,
      tag: 'Discovery',
      summary: 'Authorization server metadata (RFC 8414)',
      caller: { kind: 'public' },
      answers: { '200': cached('The metadata document.', 'AuthorizationServerMetadata'), '304': notModified },
    },
    {
      method: 'get',
      path: JWKS_PATH,
      tag: 'Discovery',
      summary: 'The public signing keys (JWKS) that verify access tokens',
      caller: { kind: 'public' },
      answers: { '200': cached('The key set.', 'Jwks'), '304': notModified },
    },
    {
      method: 'get',
      path: OPENAPI_PATH,
      tag: 'Discovery',
      summary: 'This OpenAPI document',
      caller: { kind: 'public' },
      answers: { '200': cached('The OpenAPI 3.1 document of this server.', 'OpenApiDocument'), '304': notModified },
    },
    {
      method: 'get',
      path: '/healthz',
      tag: 'Health',
      summary: 'Liveness: the process answers',
      caller: { kind: 'public' },
      answers: { '200': { description: 'Alive.', body: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } } } },
    },
    {
      method: 'get',
      path: '/readyz',
      tag: 'Health',
      summary: 'Readiness: the database answers and a signing key is loaded',
      caller: { kind: 'public' },
      answers: {
        '200': { description: 'Ready.', body: readiness },
        '503': { description: 'Not ready, or draining before shutdown.', body: readiness },
      },
    },
    {
      method: 'get',
      path: '/metrics',
      tag: 'Health',
      summary: 'Prometheus metrics',
      description: 'Served here unless `SCOPE_AUTH_METRICS_PORT` serves them on a port of their own.',
      caller: { kind: 'public' },
      answers: { '200': { description: 'The Prometheus text exposition format.', body: string, contentType: 'text/plain' } },
    },
  ];
}
