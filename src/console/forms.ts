// Reading a console form, and showing what the server refused next to the field that caused
// it. The domain's InvalidRequestError (and some ConflictError) messages start with the field they are about
// (`name: expected 1 to 100 characters`); a page maps those names onto its own fields.
import type { Request, Response } from 'express';
import { ConflictError, HttpError, InvalidRequestError, UnsupportedMediaTypeError } from '../errors.js';
import { FORM_CONTENT_TYPE, formText } from '../http/form-body.js';
import { html, type Html } from './html.js';

/** The form of a POST (already read by the CSRF check on a signed-in page, read here otherwise). */
export async function readForm(req: Request, res: Response): Promise<URLSearchParams> {
  if (!req.is(FORM_CONTENT_TYPE)) throw new UnsupportedMediaTypeError(`the body must be ${FORM_CONTENT_TYPE}`);
  if (typeof req.body !== 'string') {
    await new Promise<void>((resolve, reject) => formText(req, res, (error?: unknown) => (error === undefined ? resolve() : reject(error))));
  }
  return new URLSearchParams(typeof req.body === 'string' ? req.body : '');
}

/** One value of a form, trimmed; '' when absent. */
export function field(form: URLSearchParams, name: string): string {
  return (form.get(name) ?? '').trim();
}

export interface FieldError {
  /** The page's field it is about, or null for the form as a whole. */
  readonly field: string | null;
  readonly message: string;
}

/** Plain words for a refusal: the message without the field name, first letter capital. */
function sentence(text: string): string {
  const trimmed = text.trim().replace(/;? ?GET \/v1\/scopes lists the catalogue$/, '');
  const words = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(words) ? words : `${words}.`;
}

/**
 * The field a refusal is about (`fields` maps the API's names to the page's) and its
 * message; other errors are the form's. Only HttpErrors carry a message fit to show.
 */
export function fieldError(error: HttpError, fields: Readonly<Record<string, string>>): FieldError {
  const match = /^([a-z_]+): (.*)$/s.exec(error.message);
  if ((error instanceof InvalidRequestError || error instanceof ConflictError) && match !== null && fields[match[1]!] !== undefined) {
    return { field: fields[match[1]!]!, message: sentence(match[2]!) };
  }
  return { field: null, message: sentence(error.message) };
}

/** `aria-invalid` and `aria-describedby` for a control, when the error is about it. */
export function invalidAttrs(error: FieldError | null, name: string): Html {
  return error !== null && error.field === name ? html` aria-invalid="true" aria-describedby="${name}-error"` : html``;
}

/** The message under a control, when the error is about it. */
export function errorText(error: FieldError | null, name: string): Html {
  return error !== null && error.field === name ? html`<p class="field-error" id="${name}-error">${error.message}</p>` : html``;
}

/** The form-wide message at its top (role=alert, so it is announced). */
export function formAlert(error: FieldError | null): Html {
  return error !== null && error.field === null ? html`<p class="form-error" role="alert">${error.message}</p>` : html``;
}

/** A labelled text-like control with its error. */
export function textField(options: {
  readonly name: string;
  readonly label: string;
  readonly value?: string;
  readonly type?: string;
  readonly error: FieldError | null;
  readonly hint?: string;
  readonly attrs?: Html;
}): Html {
  const { name, error } = options;
  const hintId = `${name}-hint`;
  const described = [options.hint === undefined ? null : hintId, error?.field === name ? `${name}-error` : null].filter(Boolean).join(' ');
  return html`<div class="field">
  <label for="${name}">${options.label}</label>
  ${options.hint === undefined ? '' : html`<p class="hint" id="${hintId}">${options.hint}</p>`}
  <input id="${name}" name="${name}" type="${options.type ?? 'text'}" value="${options.value ?? ''}"${
    error?.field === name ? html` aria-invalid="true"` : ''
  }${described === '' ? '' : html` aria-describedby="${described}"`}${options.attrs ?? ''}>
  ${errorText(error, name)}
</div>`;
}
