// The table of API keys, on an app's "API keys" tab and on the organization's API keys page:
// the same columns and row actions on both.
import type { KeyView } from '../domain/key-status.js';
import { dateCell, relativeCell, statusBadge } from './format.js';
import { html, type Html } from './html.js';
import { dialogButton } from './parts.js';

export interface KeyTableOptions {
  readonly keys: readonly KeyView[];
  readonly now: number;
  /** Whether the person's role changes keys (revoke, roll, delete). */
  readonly canChange: boolean;
  /** Where the row actions return. */
  readonly back: string;
  /** On the organization's page: each key's app, by id. */
  readonly appNames?: ReadonlyMap<string, string>;
  readonly caption: string;
}

function keyRow(key: KeyView, options: KeyTableOptions): Html {
  const nameId = `key-${key.id}`;
  const idCell = `${key.id}-id`;
  const app = options.appNames === undefined ? null : (options.appNames.get(key.app_id) ?? key.app_id);
  return html`<tr>
  <th scope="row" id="${nameId}">${key.name}${key.scopes === null ? '' : html`<br><span class="muted">Scopes: ${key.scopes.join(' ')}</span>`}${
    key.allowed_ips === null ? '' : html`<br><span class="muted">From: ${key.allowed_ips.join(' ')}</span>`
  }</th>
  ${app === null ? '' : html`<td><a href="/console/apps/${key.app_id}/keys">${app}</a></td>`}
  <td><code id="${idCell}">${key.id}</code> <button type="button" class="secondary" data-copy="${idCell}" aria-label="Copy key ID ${key.id}" hidden>Copy</button></td>
  <td><code>…${key.secret_hint}</code></td>
  <td>${statusBadge(key.status)}${key.status === 'revoked' && key.revoke_reason ? html`<br><span class="muted">${key.revoke_reason}</span>` : ''}</td>
  <td>${dateCell(key.created_at)}</td>
  <td>${key.created_by_name ?? key.created_by}</td>
  <td>${dateCell(key.expires_at)}</td>
  <td>${relativeCell(key.last_used_at, options.now, key.last_used_ip)}</td>
  <td>${key.use_count}</td>
  <td class="actions">${options.canChange
    ? html`${key.status === 'revoked' ? '' : dialogButton('Revoke', `/console/keys/${key.id}/revoke`, { back: options.back, describe: nameId })}${
        key.status === 'revoked' ? '' : dialogButton('Roll', `/console/keys/${key.id}/roll`, { back: options.back, describe: nameId })
      }${dialogButton('Delete', `/console/keys/${key.id}/delete`, { back: options.back, danger: true, describe: nameId })}`
    : ''}</td>
</tr>`;
}

export function keyTable(options: KeyTableOptions): Html {
  return html`<div class="table-wrap"><table>
  <caption class="visually-hidden">${options.caption}</caption>
  <thead><tr><th scope="col">Name</th>${options.appNames === undefined ? '' : html`<th scope="col">App</th>`}<th scope="col">Key ID</th><th scope="col">Secret hint</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Created by</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">Uses</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
  <tbody>${options.keys.map((key) => keyRow(key, options))}</tbody>
</table></div>`;
}
