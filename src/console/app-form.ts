// The form of an app: name, description, the scope picker built from the catalogue (what
// GET /v1/scopes lists), audience, token lifetime and the addresses its keys may exchange
// from (one per line). Without JavaScript the picker is plain
// radios and checkboxes and the "What this app can do" list shows what was saved; with it,
// console.js ticks what a permission implies and keeps the list current as you choose.
import type { Config } from '../config.js';
import { allowedAudiences } from '../domain/audiences.js';
import type { Catalog, ScopeComponent, ScopePermission } from '../domain/scopes.js';
import { errorText, formAlert, type FieldError } from './forms.js';
import { html, type Html } from './html.js';

export interface AppFormValues {
  readonly name: string;
  readonly description: string;
  /** As granted (not expanded). */
  readonly scopes: readonly string[];
  /** '' for the server's default. */
  readonly audience: string;
  /** '' for the server's default. */
  readonly tokenTtl: string;
  /** As typed: addresses and ranges, one per line; '' for any address; null when the form did not carry the field. */
  readonly allowedIps: string | null;
}

/** The API's field names → this form's. */
export const APP_FIELDS = { name: 'name', description: 'description', scopes: 'scopes', audience: 'audience', token_ttl_seconds: 'token_ttl', allowed_ips: 'allowed_ips' };

/** Addresses and ranges typed one per line (or separated by spaces or commas) → a list; none: null, any address. */
export function addressList(text: string): string[] | null {
  const entries = text.split(/[\s,]+/).filter((entry) => entry !== '');
  return entries.length === 0 ? null : entries;
}

/** A stored list as the textarea shows it. */
export function addressText(list: readonly string[] | null): string {
  return list === null ? '' : list.join('\n');
}

/** The optional "Allowed IP addresses" textarea, shared by the app's form and the key's. */
export function allowedIpsField(options: { value: string; error: FieldError | null; hint: string }): Html {
  const { error } = options;
  const described = `allowed_ips-hint${error?.field === 'allowed_ips' ? ' allowed_ips-error' : ''}`;
  return html`<div class="field"><label for="allowed_ips">Allowed IP addresses</label><p class="hint" id="allowed_ips-hint">${options.hint}</p><textarea id="allowed_ips" name="allowed_ips" rows="4" spellcheck="false" autocomplete="off" aria-describedby="${described}"${
    error?.field === 'allowed_ips' ? html` aria-invalid="true"` : ''
  }>${options.value}</textarea>${errorText(error, 'allowed_ips')}</div>`;
}

const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const domId = (scope: string) => `scope-${scope.replace(/[^a-z0-9]+/g, '-')}`;

function describe(catalog: Catalog, scope: string): string {
  const permission = catalog.permissions.find((p) => p.name === scope);
  if (permission !== undefined) return permission.description;
  const [name, level] = scope.split(':');
  const component = catalog.components.find((c) => c.name === name);
  return component === undefined ? '' : `${component.description}: ${level}`;
}

/** The scopes each granted scope brings in besides itself, and which granted scope brings each. */
function includedBy(catalog: Catalog, granted: readonly string[]): Map<string, string> {
  const by = new Map<string, string>();
  for (const scope of granted) for (const implied of catalog.expand([scope])) if (implied !== scope && !by.has(implied)) by.set(implied, scope);
  return by;
}

function componentRow(catalog: Catalog, component: ScopeComponent, granted: ReadonlySet<string>): Html {
  const levels = component.levels.map((level) => `${component.name}:${level}`);
  const current = [...levels].reverse().find((scope) => granted.has(scope)) ?? '';
  const group = `level.${component.name}`;
  const hintId = `${domId(component.name)}-hint`;
  return html`<fieldset role="radiogroup" class="picker-row"${component.description === '' ? '' : html` aria-describedby="${hintId}"`}>
  <legend>${component.name}</legend>
  <div>
    ${component.description === '' ? '' : html`<p class="hint" id="${hintId}">${component.description}</p>`}
    <div class="choices">
      <label><input type="radio" name="${group}" value=""${current === '' ? html` checked` : ''}> None</label>
      ${levels.map((scope, i) => {
        const lower = i === 0 ? '' : levels[i - 1]!;
        return html`<label><input type="radio" name="${group}" value="${scope}" data-scope="${scope}" data-implies="${lower}" data-description="${describe(catalog, scope)}"${
          current === scope ? html` checked` : ''
        }> ${capital(component.levels[i]!)}</label>`;
      })}
    </div>
  </div>
</fieldset>`;
}

function permissionRow(catalog: Catalog, permission: ScopePermission, granted: ReadonlySet<string>, by: ReadonlyMap<string, string>): Html {
  const id = domId(permission.name);
  const includer = by.get(permission.name);
  const checked = granted.has(permission.name) || includer !== undefined;
  const implies = permission.implies;
  return html`<div class="perm">
  <label><input type="checkbox" id="${id}" name="scope" value="${permission.name}" data-scope="${permission.name}" data-implies="${implies.join(' ')}" data-description="${permission.description}" aria-describedby="${id}-about ${id}-included"${
    checked ? html` checked` : ''
  }${includer === undefined ? '' : html` disabled`}><code>${permission.name}</code></label>
  <span class="hint" id="${id}-about">${permission.description}${implies.length === 0 ? '' : html` (includes ${implies.join(', ')})`}</span>
  <span class="included" id="${id}-included"${includer === undefined ? html` hidden` : ''}>${includer === undefined ? '' : `Included by ${includer}`}</span>
</div>`;
}

function scopePicker(catalog: Catalog, values: AppFormValues, error: FieldError | null): Html {
  const granted = new Set(values.scopes);
  const by = includedBy(catalog, values.scopes);
  const effective = catalog.expand(values.scopes);
  const components = catalog.components.filter((c) => !c.builtin);
  const permissions = catalog.permissions.filter((p) => !p.builtin);
  const adminComponents = catalog.components.filter((c) => c.builtin);
  const adminPermissions = catalog.permissions.filter((p) => p.builtin);
  return html`<div class="stack" data-scope-picker>
  ${errorText(error, 'scopes')}
  ${components.length === 0 ? '' : html`<fieldset class="picker"${error?.field === 'scopes' ? html` aria-describedby="scopes-error"` : ''}><legend>Components</legend>${components.map((c) => componentRow(catalog, c, granted))}</fieldset>`}
  ${permissions.length === 0 ? '' : html`<fieldset class="picker"><legend>Runtime permissions</legend>${permissions.map((p) => permissionRow(catalog, p, granted, by))}</fieldset>`}
  <fieldset class="picker"><legend>Admin API</legend>
    <p class="hint">Keys of an app with these scopes administer this organization through the API.</p>
    ${adminComponents.map((c) => componentRow(catalog, c, granted))}
    ${adminPermissions.map((p) => permissionRow(catalog, p, granted, by))}
  </fieldset>
  <section class="effective" aria-labelledby="effective-title">
    <h2 id="effective-title">What this app can do</h2>
    <ul data-effective aria-live="polite">${effective.length === 0
      ? html`<li>Nothing: tokens of this app carry no scope.</li>`
      : effective.map((scope) => html`<li><code>${scope}</code>${describe(catalog, scope) === '' ? '' : ` — ${describe(catalog, scope)}`}</li>`)}</ul>
  </section>
</div>`;
}

function minutes(seconds: number): string {
  return seconds % 3600 === 0 ? `${seconds / 3600} hour${seconds === 3600 ? '' : 's'}` : `${Math.round(seconds / 60)} minutes`;
}

/** What the form offers: the catalogue, and the server's audience and token lifetimes. */
export interface AppFormSettings {
  readonly catalog: Catalog;
  readonly config: Pick<Config, 'audience' | 'tokenTtlSeconds' | 'tokenTtlMinSeconds' | 'tokenTtlMaxSeconds'>;
}

function lifetimeOptions(deps: AppFormSettings, current: string): Html {
  const { tokenTtlMinSeconds: min, tokenTtlMaxSeconds: max, tokenTtlSeconds } = deps.config;
  const choices = [300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400].filter((s) => s >= min && s <= max);
  if (current !== '' && !choices.includes(Number(current))) choices.push(Number(current));
  choices.sort((a, b) => a - b);
  return html`<option value=""${current === '' ? html` selected` : ''}>Server default (${minutes(tokenTtlSeconds)})</option>${choices.map(
    (s) => html`<option value="${s}"${String(s) === current ? html` selected` : ''}>${minutes(s)}</option>`,
  )}`;
}

function audienceOptions(deps: AppFormSettings, current: string): Html {
  const allowed = allowedAudiences({ catalog: deps.catalog, defaultAudience: deps.config.audience }).filter((a) => a !== deps.config.audience);
  const unlisted = current !== '' && current !== deps.config.audience && !allowed.includes(current);
  return html`<option value=""${current === '' ? html` selected` : ''}>Server default (${deps.config.audience})</option>${allowed.map(
    (a) => html`<option value="${a}"${a === current ? html` selected` : ''}>${a}</option>`,
  )}${unlisted ? html`<option value="${current}" selected>${current} (no longer listed)</option>` : ''}`;
}

export function appForm(deps: AppFormSettings, options: { action: string; csrf: Html; values: AppFormValues; error: FieldError | null; editing: boolean }): Html {
  const { values, error } = options;
  const invalid = (name: string) => (error?.field === name ? html` aria-invalid="true" aria-describedby="${name}-error"` : '');
  return html`${formAlert(error)}
<form method="post" action="${options.action}" class="stack">
  ${options.csrf}
  <div class="stack">
      <div class="field"><label for="name">Name</label><input id="name" name="name" value="${values.name}" required maxlength="100"${invalid('name')}>${errorText(error, 'name')}</div>
      <div class="field"><label for="description">Description</label><textarea id="description" name="description" maxlength="1000"${invalid('description')}>${values.description}</textarea>${errorText(error, 'description')}</div>
      <h2>Scopes</h2>
      ${options.editing ? html`<p class="warning">Changing the scopes applies to every key of this app, from the next token each one gets.</p>` : ''}
      ${scopePicker(deps.catalog, values, error)}
      <div class="field"><label for="audience">Audience</label><p class="hint" id="audience-hint">The API the app's tokens are meant for (their <code>aud</code>).</p><select id="audience" name="audience" aria-describedby="audience-hint${error?.field === 'audience' ? ' audience-error' : ''}"${error?.field === 'audience' ? html` aria-invalid="true"` : ''}>${audienceOptions(deps, values.audience)}</select>${errorText(error, 'audience')}</div>
      <div class="field"><label for="token_ttl">Token lifetime</label><select id="token_ttl" name="token_ttl"${invalid('token_ttl')}>${lifetimeOptions(deps, values.tokenTtl)}</select>${errorText(error, 'token_ttl')}</div>
      ${allowedIpsField({
        value: values.allowedIps ?? '',
        error,
        hint: 'Optional. One IPv4 or IPv6 address or CIDR range per line (e.g. 203.0.113.0/24), at most 100: its keys get tokens only from these client addresses. Empty: from any address.',
      })}
      <div class="buttons"><button type="submit" class="primary">Save</button> <a href="${options.editing ? options.action.replace(/\/settings$/, '/keys') : '/console/apps'}" class="button secondary">Cancel</a></div>
  </div>
</form>`;
}

/** The values a submitted app form holds. */
export function appFormValues(form: URLSearchParams): AppFormValues {
  const scopes = [...form.getAll('scope')];
  for (const [name, value] of form) if (name.startsWith('level.') && value !== '') scopes.push(value);
  return {
    name: (form.get('name') ?? '').trim(),
    description: form.get('description') ?? '',
    scopes: [...new Set(scopes)],
    audience: (form.get('audience') ?? '').trim(),
    tokenTtl: (form.get('token_ttl') ?? '').trim(),
    allowedIps: form.get('allowed_ips'),
  };
}
