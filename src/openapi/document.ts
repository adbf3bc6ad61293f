// The OpenAPI 3.1 document of the whole HTTP API. Built once at startup (GET /openapi.json)
// and by `npm run openapi` (docs/openapi.json), from the routes' own zod schemas: what it
// says a request may hold is what the server accepts.
import { adminOperations } from './admin-operations.js';
import { componentSchemas } from './components.js';
import { leakOperations } from './leak-operations.js';
import { operationObject, templateOf, type Operation } from './operations.js';
import { peopleOperations } from './people-operations.js';
import { publicOperations } from './public-operations.js';
import type { JsonSchema } from './schema.js';
import { webhookOperations, webhookSchemas } from './webhook-operations.js';

export interface OpenApiInputs {
  readonly version: string;
  /** SCOPE_AUTH_TOKEN_TTL_MAX: the most an app's `token_ttl_seconds` may be. */
  readonly tokenTtlMaxSeconds: number;
  /** The session cookie's name, which depends on the issuer's scheme. */
  readonly sessionCookieName: string;
}

export function allOperations(inputs: Pick<OpenApiInputs, 'tokenTtlMaxSeconds'>): Operation[] {
  return [...publicOperations(), ...adminOperations(inputs.tokenTtlMaxSeconds), ...leakOperations(), ...webhookOperations(), ...peopleOperations()];
}

const DESCRIPTION = `A self-hosted auth server that exchanges long-lived API keys for short-lived, scoped JWTs (RFC 9068).

Clients exchange an org id, key id and secret at \`POST /v1/token\` (or the OAuth 2.0 client credentials grant at \`POST /oauth2/token\`) for an access token; downstream services verify it offline against \`/.well-known/jwks.json\`. The admin API (\`/v1/…\`) takes such a token, holding \`admin.*\` scopes, or a signed-in person's session.

Errors are RFC 9457 \`application/problem+json\` with a stable \`code\`, except on the token endpoints, which answer in the OAuth 2.0 shape. A known path with a method it does not take answers 405 with \`Allow\`. Lists take \`?limit=\` (1–200) and \`?cursor=\`.`;

export function openApiDocument(inputs: OpenApiInputs): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of allOperations(inputs)) {
    const template = templateOf(op.path);
    const item = (paths[template] ??= {});
    if (item[op.method] !== undefined) throw new Error(`the OpenAPI document describes ${op.method.toUpperCase()} ${template} twice`);
    item[op.method] = operationObject(op);
  }
  return {
    openapi: '3.1.1',
    info: { title: 'scope-auth', version: inputs.version, description: DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: ['Tokens', 'Discovery', 'Health', 'Scopes', 'Apps', 'Keys', 'Audit', 'Webhooks', 'Organizations', 'Users', 'Sessions', 'Me', 'Second factor', 'Invitations'].map((name) => ({ name })),
    paths,
    components: {
      schemas: { ...componentSchemas, ...webhookSchemas, OpenApiDocument: { type: 'object', description: 'An OpenAPI 3.1 document.' } },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'An access token of this server. The scopes an operation lists (any one of them) must be in its `scope` claim.',
        },
        sessionCookie: {
          type: 'apiKey',
          in: 'cookie',
          name: inputs.sessionCookieName,
          description: 'A signed-in person’s session (`POST /v1/sessions`). Named `__Host-scope-auth-session` with an https issuer, `scope-auth-session` with an http one.',
        },
        csrfToken: {
          type: 'apiKey',
          in: 'header',
          name: 'X-CSRF-Token',
          description: 'The session’s CSRF token (answered by sign-in and `GET /v1/me`): every change made with a session carries it, from the issuer’s origin.',
        },
        clientBasic: { type: 'http', scheme: 'basic', description: 'client_secret_basic: the key id and secret, each form-urlencoded.' },
      },
    },
  };
}
