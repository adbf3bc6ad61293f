// The pieces every admin route shares: the actor from the bearer token or session, input parsing with
// zod into 400 problems that name the field, and the JSON body parser.
import express, { type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Actor } from '../domain/actor.js';
import { isId, type IdKind } from '../domain/credentials.js';
import { PAGE_LIMIT_MAX } from '../domain/pagination.js';
import { InvalidRequestError, UnsupportedMediaTypeError } from '../errors.js';
import { authOf } from './bearer-auth.js';
import { BODY_LIMIT_BYTES } from './raw-body.js';
import { clientIp } from './request-context.js';

/** The caller as the domain sees it: the token's org is the tenant and its key the actor, or the session's person and org. */
export function adminActor(req: Request, res: Response): Actor {
  const { orgId, id, scopes } = authOf(res);
  return { orgId, id, ip: clientIp(req), scopes };
}

function describeIssue(issue: z.core.$ZodIssue, where: string): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path ? `${path}.${k}` : k));
    const noun = where === 'query' ? 'parameter' : 'field';
    return `${where}: unknown ${noun}${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  }
  return `${path || where}: ${issue.message}`;
}

/** Parses with `schema`; a 400 problem naming every invalid field otherwise. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const messages = result.error.issues.map((issue) => describeIssue(issue, where));
  throw new InvalidRequestError(messages.join('; '), {
    extra: { errors: result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: describeIssue(issue, where) })) },
  });
}

/** JSON bodies up to 64 KiB; a body of another type is a 415, no body at all reads as `{}`. */
export function jsonBody(): RequestHandler {
  // No inflating: a compressed body is refused before this (http/body-gate.ts).
  const parse = express.json({ limit: BODY_LIMIT_BYTES, inflate: false });
  return (req, res, next) => {
    // An empty body (Content-Length: 0, as many clients send for a bare POST) has no type to check.
    if (req.get('content-length') !== '0' && req.is('application/json') === false) throw new UnsupportedMediaTypeError('the body must be application/json');
    parse(req, res, (error?: unknown) => {
      if (error !== undefined) return next(error);
      if (req.body === undefined) req.body = {};
      next();
    });
  };
}

export const idParam = (kind: IdKind, label: string) =>
  z.string().refine((value) => isId(kind, value), { message: `expected ${label} id` });

/** A whole number in a query string, within bounds. */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,12}$/, { message: `expected a whole number from ${min} to ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `expected a whole number from ${min} to ${max}` });

/** No query parameters, or an empty JSON object as the body: anything given is a 400. */
export const noInput = z.strictObject({});

/** `?limit&cursor`, shared by every list. */
export const pageQueryShape = {
  limit: queryInt(1, PAGE_LIMIT_MAX).optional(),
  cursor: z.string().min(1).max(200).optional(),
};

/** An ISO 8601 time with an offset (or Z) → epoch ms. */
export const isoTimeInput = z
  .iso.datetime({ offset: true, message: 'expected an ISO 8601 time such as 2027-01-31T00:00:00Z' })
  .transform((value) => Date.parse(value));

/** Validated name: 1–100 characters, trimmed. */
export const nameInput = z.string().trim().min(1, { message: 'expected 1 to 100 characters' }).max(100, { message: 'expected 1 to 100 characters' });
