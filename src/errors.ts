// The closed set of errors the server renders. Anything else that reaches the error handler
// is a bug and renders as a generic 500 with no detail (see http/error-handler.ts).

export interface ErrorOptions {
  cause?: unknown;
  /** Extra members for the problem body (e.g. the list of invalid fields). */
  extra?: Record<string, unknown>;
}

/** An error whose status, stable code and message may be shown to the client. */
export abstract class HttpError extends Error {
  static readonly status: number;
  static readonly code: string;
  static readonly title: string;
  readonly extra: Record<string, unknown> | undefined;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.extra = options.extra;
  }

  get status(): number {
    return (this.constructor as typeof HttpError).status;
  }
  get code(): string {
    return (this.constructor as typeof HttpError).code;
  }
  get title(): string {
    return (this.constructor as typeof HttpError).title;
  }
}

export class InvalidRequestError extends HttpError {
  static override readonly status = 400;
  static override readonly code = 'invalid_request';
  static override readonly title = 'Invalid request';
}

export class UnauthenticatedError extends HttpError {
  static override readonly status = 401;
  static override readonly code = 'unauthenticated';
  static override readonly title = 'Authentication required';
}

/** Sign-in: one body for an unknown email, a wrong password, a disabled or not yet joined person. */
export class InvalidCredentialsError extends HttpError {
  static override readonly status = 401;
  static override readonly code = 'invalid_credentials';
  static override readonly title = 'Invalid credentials';
}

/**
 * Sign-in: the password was right, and the person's second factor is missing or was not
 * right. Answered only after the password proved right, so it tells nothing about an email
 * whose password the caller does not know.
 */
export class MfaRequiredError extends HttpError {
  static override readonly status = 401;
  static override readonly code = 'mfa_required';
  static override readonly title = 'Second factor required';
}

/** A session-authenticated change without the session's CSRF token, or sent from another site. */
export class CsrfError extends HttpError {
  static override readonly status = 403;
  static override readonly code = 'csrf_failed';
  static override readonly title = 'CSRF check failed';
}

export class InsufficientScopeError extends HttpError {
  static override readonly status = 403;
  static override readonly code = 'insufficient_scope';
  static override readonly title = 'Insufficient scope';
}

/** A session of a person whose org requires a second factor they have not enrolled: only enrolment is open to it. */
export class MfaEnrolmentRequiredError extends HttpError {
  static override readonly status = 403;
  static override readonly code = 'mfa_enrolment_required';
  static override readonly title = 'Second factor enrolment required';
}

export class ForbiddenError extends HttpError {
  static override readonly status = 403;
  static override readonly code = 'forbidden';
  static override readonly title = 'Forbidden';
}

/** The call would act on (or grant) admin power the caller's own token does not hold. */
export class ExceedsCallerScopeError extends HttpError {
  static override readonly status = 403;
  static override readonly code = 'exceeds_caller_scope';
  static override readonly title = 'Exceeds the caller\'s scope';
}

export class NotFoundError extends HttpError {
  static override readonly status = 404;
  static override readonly code = 'not_found';
  static override readonly title = 'Not found';
}

export class MethodNotAllowedError extends HttpError {
  static override readonly status = 405;
  static override readonly code = 'method_not_allowed';
  static override readonly title = 'Method not allowed';
}

export class ConflictError extends HttpError {
  static override readonly status = 409;
  static override readonly code = 'conflict';
  static override readonly title = 'Conflict';
}

/** The change would leave the root organization with no active way in holding admin.orgs:full. */
export class LastRootAdminError extends HttpError {
  static override readonly status = 409;
  static override readonly code = 'last_root_admin';
  static override readonly title = 'Last root admin';
}

/** The change would leave the organization with no active owner. */
export class LastOwnerError extends HttpError {
  static override readonly status = 409;
  static override readonly code = 'last_owner';
  static override readonly title = 'Last owner';
}

export class PayloadTooLargeError extends HttpError {
  static override readonly status = 413;
  static override readonly code = 'payload_too_large';
  static override readonly title = 'Payload too large';
}

export class UnsupportedMediaTypeError extends HttpError {
  static override readonly status = 415;
  static override readonly code = 'unsupported_media_type';
  static override readonly title = 'Unsupported media type';
}

/** Too many failed attempts from this client (and for this email); Retry-After says when to try again. */
export class ThrottledError extends HttpError {
  static override readonly status = 429;
  static override readonly code = 'throttled';
  static override readonly title = 'Too many attempts';
}

export class UnavailableError extends HttpError {
  static override readonly status = 503;
  static override readonly code = 'unavailable';
  static override readonly title = 'Service unavailable';
}

/** The OAuth 2.0 error codes the token endpoints answer with (RFC 6749 §5.2). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'slow_down'
  | 'temporarily_unavailable';

/** Rendered as `{ error, error_description }` by the token endpoints. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly status: number,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}
