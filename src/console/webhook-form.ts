// The form of a webhook, for adding one and for editing it: "URL", "Description" and a
// checkbox per event type (the domain's list, in its order). A refusal is shown next to
// its field, or at the top for the form as a whole (too many webhooks).
import type { Config } from '../config.js';
import { WEBHOOK_URL_MAX } from '../domain/webhook-addresses.js';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhook-events.js';
import { WEBHOOK_DESCRIPTION_MAX, type WebhookView } from '../domain/webhooks.js';
import { errorText, formAlert, invalidAttrs, textField, type FieldError } from './forms.js';
import { html, type Html } from './html.js';

export interface WebhookFormValues {
  readonly url: string;
  readonly description: string;
  readonly events: readonly string[];
}

/** The API's field names → this form's. */
export const WEBHOOK_FIELDS = { url: 'url', events: 'events', description: 'description' };

export const EMPTY_WEBHOOK: WebhookFormValues = { url: '', description: '', events: [] };

export function webhookFormValues(form: URLSearchParams): WebhookFormValues {
  return { url: (form.get('url') ?? '').trim(), description: form.get('description') ?? '', events: [...new Set(form.getAll('event'))] };
}

export function webhookValuesOf(webhook: WebhookView): WebhookFormValues {
  return { url: webhook.url, description: webhook.description, events: webhook.events };
}

/** What the URL field says the server accepts, from its switches. */
function urlHint(config: Pick<Config, 'webhooks'>): string {
  const { allowHttp, allowPrivate } = config.webhooks;
  const extra = [allowHttp ? 'http:// to a loopback address' : null, allowPrivate ? 'private addresses' : null].filter(Boolean).join(' and ');
  return `An https:// URL the server POSTs each event to, at a public address${extra === '' ? '' : ` (this server also allows ${extra})`}.`;
}

function eventChoices(values: WebhookFormValues, error: FieldError | null): Html {
  const ticked = new Set(values.events);
  const invalid = error?.field === 'events';
  return html`<fieldset class="stack" aria-describedby="events-hint${invalid ? ' events-error' : ''}">
  <legend>Events</legend>
  <p class="hint" id="events-hint">At least one. Each is the audit event of the same name, sent as it happens.</p>
  <div class="choices">${WEBHOOK_EVENT_TYPES.map(
    (event) => html`<label><input type="checkbox" name="event" value="${event}"${ticked.has(event) ? html` checked` : ''}> <code>${event}</code></label>`,
  )}</div>
  ${errorText(error, 'events')}
</fieldset>`;
}

export function webhookForm(config: Pick<Config, 'webhooks'>, options: { action: string; csrf: Html; values: WebhookFormValues; error: FieldError | null; submit: string; cancel: string }): Html {
  const { values, error } = options;
  return html`${formAlert(error)}
<form method="post" action="${options.action}" class="stack">
  ${options.csrf}
  ${textField({ name: 'url', label: 'URL', type: 'url', value: values.url, error, hint: urlHint(config), attrs: html` required maxlength="${WEBHOOK_URL_MAX}" autocomplete="off" spellcheck="false"` })}
  <div class="field"><label for="description">Description</label><textarea id="description" name="description" maxlength="${WEBHOOK_DESCRIPTION_MAX}"${invalidAttrs(error, 'description')}>${values.description}</textarea>${errorText(error, 'description')}</div>
  ${eventChoices(values, error)}
  <div class="buttons"><button type="submit" class="primary">${options.submit}</button> <a href="${options.cancel}" class="button secondary">Cancel</a></div>
</form>`;
}
