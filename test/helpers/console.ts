// Console pages in route tests: forms posted as a browser posts them (urlencoded, this
// server's Origin, the session's cookie and its CSRF token in the csrf_token field).
import request from 'supertest';
import { expect } from 'vitest';
import type { App } from '../../src/app.js';
import { ORIGIN, type SignedIn } from './people.js';

export type FormFields = Readonly<Record<string, string | readonly string[]>>;

export function formBody(fields: FormFields): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const v of typeof value === 'string' ? [value] : value) params.append(name, v);
  return params.toString();
}

/** GET a page as the person. */
export function consoleGet(app: App, person: Pick<SignedIn, 'cookie'>, path: string): request.Test {
  return request(app).get(path).set('Cookie', person.cookie);
}

/** POST a form as the person, with the CSRF token unless `csrf: false`. */
export function consolePost(app: App, person: Pick<SignedIn, 'cookie' | 'csrf'>, path: string, fields: FormFields = {}, options: { csrf?: boolean; origin?: string } = {}): request.Test {
  const body = formBody({ ...(options.csrf === false ? {} : { csrf_token: person.csrf }), ...fields });
  return request(app)
    .post(path)
    .set('Cookie', person.cookie)
    .set('Origin', options.origin ?? ORIGIN)
    .type('form')
    .send(body);
}

/** The text of a page without its markup, whitespace folded: what a reader sees. */
export function visibleText(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ');
}

/**
 * What the console's CSP requires of a page, `path` naming it in failures: no inline
 * `<script>` (only the console's own assets), no `style=` and no `on…=` attribute. Attribute
 * values (escaped, so they cannot close their quotes) are left out of the check.
 */
export function expectNoInlineCode(html: string, path: string): void {
  expect(html.match(/<script\b[^>]*>/g)?.filter((tag) => !/\bsrc="\/console\/assets\//.test(tag)) ?? [], path).toEqual([]);
  const tags = html.replace(/"[^"]*"/g, '""');
  expect(tags, path).not.toMatch(/<[^>]*\sstyle=/i);
  expect(tags, path).not.toMatch(/<[^>]*\son[a-z]+=/i);
}
