// The page a new secret is shown on, once: after creating or rolling a key, after creating a
// webhook or rotating its secret. It answers the POST itself (never a redirect, so the
// secret is in no URL) with no-store, as a modal dialog holding each value with a "Copy"
// button. "Copy and close" (console.js) copies one of them and replaces the page in the
// history with where it closes to. The secret is never logged: it is only in this response body.
import type { KeyView } from '../domain/key-status.js';
import { html, type HtmlValue } from './html.js';
import type { Layout, Viewer } from './layout.js';

/** One value of the dialog: its element id, its label (the Copy button is "Copy <label>"), and whether it is a multi-line block. */
export interface CopyValue {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly block?: boolean;
}

export interface CopyOnceOptions {
  readonly viewer: Viewer;
  readonly section: string;
  readonly title: string;
  /** After the bold "Copy … now: it will not be shown again." */
  readonly warning: HtmlValue;
  /** The bold sentence, when "the secret" is not the word. */
  readonly copyNow?: string;
  readonly values: readonly CopyValue[];
  /** The id of the value "Copy and close" copies. */
  readonly copyOnClose: string;
  /** Where the dialog closes to. */
  readonly close: string;
}

export function copyOnceDialog(layout: Layout, options: CopyOnceOptions): string {
  const row = ({ id, label, value, block }: CopyValue) => html`<div>
  <span class="copy-label" id="${id}-label">${label}</span>
  <div class="copy-row">${block ? html`<pre id="${id}" data-secret aria-labelledby="${id}-label">${value}</pre>` : html`<output id="${id}" data-secret aria-labelledby="${id}-label">${value}</output>`}<button type="button" class="secondary" data-copy="${id}" aria-label="Copy ${label}" hidden>Copy</button></div>
</div>`;
  return layout({
    title: options.title,
    viewer: options.viewer,
    section: options.section,
    body: html`<dialog open data-copy-once aria-labelledby="copy-once-title" aria-describedby="copy-once-warning">
  <h1 id="copy-once-title">${options.title}</h1>
  <p class="warning" id="copy-once-warning"><strong>${options.copyNow ?? 'Copy the secret now: it will not be shown again.'}</strong> ${options.warning}</p>
  <div class="secret-block">
    ${options.values.map(row)}
  </div>
  <div class="buttons"><button type="button" class="primary" data-copy-close="${options.copyOnClose}" data-href="${options.close}" hidden>Copy and close</button><a href="${options.close}" class="button secondary" data-without-js>Close</a></div>
</dialog>`,
  });
}

/** A new key's org id, key id, secret and the block to paste into an environment; closes to the app's keys tab. */
export function copyOncePage(layout: Layout, options: { viewer: Viewer; key: KeyView; secret: string; apiUrl: string; title: string }): string {
  const { key, secret } = options;
  const block = `SCOPE_ORG_ID=${key.org_id}\nSCOPE_API_KEY=${key.id}\nSCOPE_API_SECRET=${secret}\nSCOPE_AUTH_API_URL=${options.apiUrl}`;
  return copyOnceDialog(layout, {
    viewer: options.viewer,
    section: 'apps',
    title: options.title,
    warning: 'Only a hash of it is stored; if it is lost, roll the key.',
    values: [
      { id: 'org-id', label: 'Organization ID', value: key.org_id },
      { id: 'key-id', label: 'Key ID', value: key.id },
      { id: 'secret', label: 'Secret', value: secret },
      { id: 'env-block', label: 'Environment', value: block, block: true },
    ],
    copyOnClose: 'env-block',
    close: `/console/apps/${key.app_id}/keys`,
  });
}
