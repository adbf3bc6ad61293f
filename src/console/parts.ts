// Pieces several pages share: the pager of a list, the notice after a change, and the row
// action that opens a confirmation (a page of its own; console.js shows that page's form in
// a <dialog> instead of navigating).
import { html, type Html } from './html.js';

/** What a change's redirect may say (`?done=…`): fixed words, so a link cannot make a page say anything else. */
const NOTICES: Readonly<Record<string, string>> = {
  'app-created': 'The app was created.',
  'app-saved': 'The app was saved. Its keys get the new settings from their next token.',
  'app-deleted': 'The app was deleted, and its keys stopped working.',
  'key-revoked': 'The key was revoked: it can no longer get tokens.',
  'key-deleted': 'The key was deleted.',
  'name-saved': 'Your name was saved.',
  'password-changed': 'Your password was changed, and your other sessions ended.',
  'session-ended': 'That session was signed out.',
  'signed-out-elsewhere': 'Every other session was signed out.',
  'role-changed': 'The role was changed; the person was signed out everywhere.',
  'person-disabled': 'The person was disabled and signed out everywhere.',
  'person-enabled': 'The person was enabled: they can sign in again.',
  'person-deleted': 'The person was deleted.',
  'second-factor-reset': 'The second factor was reset: the person signs in with their password until they set up a new one.',
  'signing-keys-rotated': 'The signing keys were rotated.',
  'webhook-saved': 'The webhook was saved.',
  'webhook-enabled': 'The webhook was enabled: events from now on are sent to it.',
  'webhook-disabled': 'The webhook was disabled: nothing more is sent to it.',
  'webhook-deleted': 'The webhook was deleted, with its deliveries.',
};

export function notice(done: unknown): Html {
  const text = typeof done === 'string' ? NOTICES[done] : undefined;
  return text === undefined ? html`` : html`<p class="notice" role="status">${text}</p>`;
}

/** The same URL with `params` changed (undefined or '' drops one). */
export function withQuery(path: string, query: Readonly<Record<string, string | undefined>>, changes: Readonly<Record<string, string | undefined>>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...query, ...changes })) if (value !== undefined && value !== '') params.set(name, value);
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** "First page" when on a later one, "Next page" while there is one. */
export function pager(path: string, query: Readonly<Record<string, string | undefined>>, nextCursor: string | null): Html {
  const first = query['cursor'] !== undefined && query['cursor'] !== '';
  if (!first && nextCursor === null) return html``;
  return html`<nav class="pager" aria-label="Pages">
  ${first ? html`<a href="${withQuery(path, query, { cursor: undefined })}">First page</a>` : ''}
  ${nextCursor === null ? '' : html`<a href="${withQuery(path, query, { cursor: nextCursor })}" rel="next">Next page</a>`}
</nav>`;
}

/**
 * A button that opens `href` (a confirmation or a small form): a GET form, so it works
 * without JavaScript; with it, console.js shows the target page's form in a dialog.
 * `back` is where the target returns after its change.
 */
export function dialogButton(label: string, href: string, options: { back?: string; danger?: boolean; primary?: boolean; describe?: string } = {}): Html {
  const cls = options.danger ? 'danger' : options.primary ? 'primary' : 'secondary';
  return html`<form method="get" action="${href}" class="inline" data-dialog>${
    options.back === undefined ? '' : html`<input type="hidden" name="back" value="${options.back}">`
  }<button type="submit" class="${cls}"${options.describe === undefined ? '' : html` aria-describedby="${options.describe}"`}>${label}</button></form>`;
}

/** Where a change returns: a console path given by the page that linked it, else `fallback`. */
export function backTo(back: unknown, fallback: string): string {
  if (typeof back !== 'string' || !back.startsWith('/console/') || back.startsWith('//') || /[\\\s]/.test(back)) return fallback;
  return back;
}

/** `back` with `?done=…` added. */
export function doneUrl(back: string, done: string): string {
  const [path, search = ''] = back.split('?', 2) as [string, string?];
  const params = new URLSearchParams(search);
  params.delete('cursor');
  params.set('done', done);
  return `${path}?${params.toString()}`;
}
