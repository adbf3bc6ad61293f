// The page a one-time link is shown on, once: a new person's invitation, a password reset,
// a new organization's first owner. It answers the POST that made the link (never a
// redirect, so the link is in no URL and no history entry), with a "Copy" button. Only the
// link's hash is stored, so it cannot be shown again: a new one replaces it.
import { html, type HtmlValue } from './html.js';
import type { Layout, Viewer } from './layout.js';

export interface LinkOnce {
  readonly id: string;
  readonly label: string;
  readonly url: string;
}

export function linkOnceBlock(link: LinkOnce): HtmlValue {
  return html`<div>
  <span class="copy-label" id="${link.id}-label">${link.label}</span>
  <div class="copy-row"><output id="${link.id}" data-secret aria-labelledby="${link.id}-label">${link.url}</output><button type="button" class="secondary" data-copy="${link.id}" aria-label="Copy ${link.label}" hidden>Copy</button></div>
</div>`;
}

export function linkOncePage(layout: Layout, options: { viewer: Viewer; section: string; title: string; text: HtmlValue; link: LinkOnce; back: string; backLabel: string }): string {
  return layout({
    title: options.title,
    viewer: options.viewer,
    section: options.section,
    body: html`<div class="stack">
<h1>${options.title}</h1>
<p class="warning"><strong>Copy the link now: it will not be shown again.</strong> ${options.text}</p>
<div class="secret-block">${linkOnceBlock(options.link)}</div>
<p><a href="${options.back}" class="button secondary">${options.backLabel}</a></p>
</div>`,
  });
}
