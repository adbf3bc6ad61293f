// What a console page answers when something is refused: a page in plain words with the
// status of the refusal (403 for what the role may not do, 404 for what is not there), rather
// than the API's problem+json. Errors that are no HttpError are bugs and go on to the API's
// handler, which logs them and answers a bare 500.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { CsrfError, HttpError, InsufficientScopeError, NotFoundError, PayloadTooLargeError, UnavailableError } from '../errors.js';
import { bodyParserError } from '../http/error-handler.js';
import { isDatabaseUnavailable } from '../store/availability.js';
import { html } from './html.js';
import type { Layout, Viewer } from './layout.js';
import type { SignedIn } from './session.js';

function explain(error: HttpError): { title: string; text: string } {
  if (error instanceof CsrfError) {
    return { title: 'This form cannot be accepted', text: 'It was sent from another site, or the page was open too long. Go back, reload the page and try again.' };
  }
  if (error instanceof InsufficientScopeError) return { title: 'Your role cannot do this', text: `${error.message}. Ask an owner of your organization.` };
  if (error instanceof NotFoundError) return { title: 'Not found', text: 'There is nothing here: it may have been deleted, or the address is wrong.' };
  return { title: error.title, text: error.message.charAt(0).toUpperCase() + error.message.slice(1) };
}

export function consoleNotFound(): RequestHandler {
  return () => {
    throw new NotFoundError('no such console page');
  };
}

export function consoleErrors(layout: Layout): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (res.headersSent) return next(error);
    let known = error instanceof HttpError ? error : bodyParserError(error);
    if (known === null && isDatabaseUnavailable(error)) {
      res.set('Retry-After', '1');
      known = new UnavailableError('the server cannot reach its database right now; try again in a moment');
    }
    if (known === null) return next(error);
    // A body refused as too large is not read to its end: the connection cannot carry another request.
    if (known instanceof PayloadTooLargeError) res.shouldKeepAlive = false;
    const viewer = (res.locals.console as SignedIn | undefined)?.viewer ?? null;
    const { title, text } = explain(known);
    res.status(known.status).type('html').send(errorPage(layout, viewer, title, text));
  };
}

function errorPage(layout: Layout, viewer: Viewer | null, title: string, text: string): string {
  return layout({
    title,
    viewer,
    body: html`<h1>${title}</h1><p>${text}</p><p><a href="/console/apps">Back to the apps</a></p>`,
  });
}
