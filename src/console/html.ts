// A tagged template that escapes every interpolated value, so a page cannot hold markup it
// did not write: `html\`<td>${app.name}</td>\``. Nested html`` results, and arrays of them,
// are inserted as they are; anything else goes through escape-html (the escaper express
// itself uses). There is no way to insert a raw string except another html`` literal.
import escapeHtml from 'escape-html';

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Nothing, for a branch that renders no markup. */
export const empty = new Html('');
