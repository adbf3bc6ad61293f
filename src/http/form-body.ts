// application/x-www-form-urlencoded bodies for the OAuth endpoints. The body is read as text
// and split with URLSearchParams rather than parsed by express.urlencoded, whose parser
// folds a repeated parameter into an array or keeps one of the values: RFC 6749 §3.2 says a
// parameter MUST NOT be included more than once, so a repeat has to stay detectable.
// POST /oauth2/token reads its text with readBodyText (a raw route); POST /oauth2/introspect,
// behind the admin bearer auth on express, with `formText`.
import express from 'express';
import { BODY_LIMIT_BYTES } from './raw-body.js';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** Reads a form body (at most BODY_LIMIT_BYTES, like every other body) into `req.body` as a string. */
export const formText = express.text({ type: FORM_CONTENT_TYPE, limit: BODY_LIMIT_BYTES, inflate: false });

export type FormParseResult = { ok: true; params: Map<string, string> } | { ok: false; error: string };

/**
 * The parameters of a form body, or why it cannot be used: a parameter given twice. A
 * parameter with an empty value is dropped, as RFC 6749 §3.1 says it must be treated as
 * omitted.
 */
export function parseForm(text: string): FormParseResult {
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (value === '') continue;
    if (params.has(name)) return { ok: false, error: `the parameter ${name.slice(0, 64)} is repeated` };
    params.set(name, value);
  }
  return { ok: true, params };
}

/** The form of a request read by `formText`, or why it cannot be used. */
export function readForm(req: express.Request): FormParseResult {
  if (!req.is(FORM_CONTENT_TYPE) || typeof req.body !== 'string') {
    return { ok: false, error: `the body must be ${FORM_CONTENT_TYPE}` };
  }
  return parseForm(req.body);
}
