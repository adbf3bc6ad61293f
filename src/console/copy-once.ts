// The page a new secret is shown on, once: after creating or rolling a key. It answers the
// POST itself (never a redirect, so the secret is in no URL) with no-store, as a modal
// dialog holding the org id, key id and secret, and the block to paste into an environment,
// each with a "Copy" button. "Copy and close" (console.js) copies the block and replaces the
// page in the history with the app's keys tab. The secret is never logged: it is only in
// this response body.
import type { KeyView } from '../domain/key-status.js';
import { html } from './html.js';
import type { Layout, Viewer } from './layout.js';

export function copyOncePage(layout: Layout, options: { viewer: Viewer; key: KeyView; secret: string; apiUrl: string; title: string }): string {
  const { key, secret } = options;
  const close = `/console/apps/${key.app_id}/keys`;
  const block = `SCOPE_ORG_ID=${key.org_id}\nSCOPE_API_KEY=${key.id}\nSCOPE_API_SECRET=${secret}\nSCOPE_AUTH_API_URL=${options.apiUrl}`;
  const row = (id: string, label: string, value: string, pre = false) => html`<div>
  <span class="copy-label" id="${id}-label">${label}</span>
  <div class="copy-row">${pre ? html`<pre id="${id}" data-secret aria-labelledby="${id}-label">${value}</pre>` : html`<output id="${id}" data-secret aria-labelledby="${id}-label">${value}</output>`}<button type="button" class="secondary" data-copy="${id}" aria-label="Copy ${label}" hidden>Copy</button></div>
</div>`;
  return layout({
    title: options.title,
    viewer: options.viewer,
    section: 'apps',
    body: html`<dialog open data-copy-once aria-labelledby="copy-once-title" aria-describedby="copy-once-warning">
  <h1 id="copy-once-title">${options.title}</h1>
  <p class="warning" id="copy-once-warning"><strong>Copy the secret now: it will not be shown again.</strong> Only a hash of it is stored; if it is lost, roll the key.</p>
  <div class="secret-block">
    ${row('org-id', 'Organization ID', key.org_id)}
    ${row('key-id', 'Key ID', key.id)}
    ${row('secret', 'Secret', secret)}
    ${row('env-block', 'Environment', block, true)}
  </div>
  <div class="buttons"><button type="button" class="primary" data-copy-close="env-block" data-href="${close}" hidden>Copy and close</button><a href="${close}" class="button secondary" data-without-js>Close</a></div>
</dialog>`,
  });
}
