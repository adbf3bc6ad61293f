// How an operation of the document is written: the route's path as express has it, its zod
// schemas (the very ones the route parses with), who may call it, and what it answers. The
// builder turns that into an OpenAPI 3.1 operation with the errors every caller of its kind
// can meet.
import type { z } from 'zod';
import { fromZod, parametersOf, ref, type JsonSchema, type Parameter } from './schema.js';

/**
 * Who may call: `admin` a bearer token or a session (a session's changes carry the CSRF
 * token), `bearer` a token only, `session` a signed-in person only, `public` anybody.
 * `scopes`: any one of them is enough.
 */
export type Caller = { readonly kind: 'admin' | 'bearer' | 'session'; readonly scopes?: readonly string[] } | { readonly kind: 'public' };

export interface Answer {
  readonly description: string;
  /** A component schema's name, or a schema; absent: no body. */
  readonly body?: string | JsonSchema;
  /** Default `application/json`. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Operation {
  readonly method: 'get' | 'post' | 'patch' | 'delete';
  /** As the route is written: `/v1/apps/:app_id`. */
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly caller: Caller;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** Default `application/json`. */
  readonly bodyType?: 'application/json' | 'application/x-www-form-urlencoded';
  /** Whether a body must be sent (default: when the schema requires a member). */
  readonly bodyRequired?: boolean;
  /** By status; the errors of the caller's kind are added. */
  readonly answers: Readonly<Record<string, Answer>>;
  /** Instead of the caller's: how the OAuth token endpoint's client authenticates. */
  readonly security?: readonly Record<string, readonly string[]>[];
  /** The token endpoints answer errors in the OAuth shape. */
  readonly oauthErrors?: boolean;
}

/** `/v1/apps/:app_id` → `/v1/apps/{app_id}`. */
export function templateOf(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

export const problem = (description: string): Answer => ({ description, body: 'Problem', contentType: 'application/problem+json' });

const CALLER_ERRORS: Readonly<Record<Caller['kind'], Readonly<Record<string, Answer>>>> = {
  public: {},
  bearer: {
    '401': problem('No token, or one that is expired, revoked or not this server’s (`unauthenticated`, with `WWW-Authenticate: Bearer`).'),
    '403': problem('The token lacks the scope (`insufficient_scope`, `required_scope` names it).'),
  },
  admin: {
    '401': problem('No token or session, or one no longer valid (`unauthenticated`).'),
    '403': problem('Missing scope (`insufficient_scope`), a session change without its CSRF token (`csrf_failed`), or beyond the caller’s own power (`exceeds_caller_scope`, `forbidden`).'),
  },
  session: {
    '401': problem('No session, or a bearer token: this takes a signed-in person (`unauthenticated`).'),
    '403': problem('A change without the session’s CSRF token (`csrf_failed`), or a session restricted to second-factor enrolment (`mfa_enrolment_required`).'),
  },
};

function security(caller: Caller, method: Operation['method']): readonly Record<string, readonly string[]>[] {
  const scopes = caller.kind === 'public' ? [] : [...(caller.scopes ?? [])];
  const session: Record<string, readonly string[]> = method === 'get' ? { sessionCookie: [] } : { sessionCookie: [], csrfToken: [] };
  switch (caller.kind) {
    case 'public':
      return [];
    case 'bearer':
      return [{ bearerAuth: scopes }];
    case 'session':
      return [session];
    case 'admin':
      return [{ bearerAuth: scopes }, session];
  }
}

function response(answer: Answer): JsonSchema {
  const headers = Object.entries(answer.headers ?? {});
  return {
    description: answer.description,
    ...(headers.length === 0 ? {} : { headers: Object.fromEntries(headers.map(([name, description]) => [name, { description, schema: { type: 'string' } }])) }),
    ...(answer.body === undefined
      ? {}
      : { content: { [answer.contentType ?? 'application/json']: { schema: typeof answer.body === 'string' ? ref(answer.body) : answer.body } } }),
  };
}

function requestBody(op: Operation): JsonSchema | undefined {
  if (op.body === undefined) return undefined;
  const schema = fromZod(op.body) as { required?: readonly string[] };
  return {
    required: op.bodyRequired ?? (schema.required ?? []).length > 0,
    content: { [op.bodyType ?? 'application/json']: { schema } },
  };
}

export function operationObject(op: Operation): JsonSchema {
  const parameters: Parameter[] = [...(op.params ? parametersOf(op.params, 'path') : []), ...(op.query ? parametersOf(op.query, 'query') : [])];
  const badRequest: Answer = op.oauthErrors
    ? { description: 'A malformed request (`invalid_request`, naming the field), an unknown scope or grant type.', body: 'OAuthError' }
    : problem('A malformed request (`invalid_request`: `detail` and `errors` name each invalid field).');
  const answers: Record<string, Answer> = { ...CALLER_ERRORS[op.caller.kind], ...op.answers };
  if (parameters.length > 0 || op.body !== undefined) answers['400'] ??= badRequest;
  const scopes = op.caller.kind === 'public' ? [] : (op.caller.scopes ?? []);
  const body = requestBody(op);
  const operationId = `${op.method}${templateOf(op.path).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`;
  return {
    tags: [op.tag],
    summary: op.summary,
    operationId,
    ...(op.description === undefined && scopes.length === 0
      ? {}
      : { description: [op.description, scopes.length > 0 ? `Scope: ${scopes.map((s) => `\`${s}\``).join(' or ')}.` : undefined].filter(Boolean).join('\n\n') }),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(body === undefined ? {} : { requestBody: body }),
    security: op.security ?? security(op.caller, op.method),
    responses: Object.fromEntries(Object.entries(answers).sort(([a], [b]) => a.localeCompare(b)).map(([status, answer]) => [status, response(answer)])),
  };
}
