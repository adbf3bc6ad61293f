// A webhook's recent deliveries, newest first: the event (and its webhook-id, which the
// receiver sees), the status, the attempts so far, the last answer, and when the next
// attempt is due or when it was delivered.
import type { DeliveryView } from '../domain/webhooks.js';
import { relativeCell } from './format.js';
import { html, type Html } from './html.js';

const STATUSES: Readonly<Record<string, { label: string; badge: string }>> = {
  pending: { label: 'Pending', badge: 'expired' },
  delivered: { label: 'Delivered', badge: 'active' },
  failed: { label: 'Failed', badge: 'revoked' },
};

function lastAnswer(delivery: DeliveryView): Html {
  if (delivery.last_status_code === null && delivery.last_error === null) return html`<span class="muted">None yet</span>`;
  return html`${delivery.last_status_code === null ? '' : html`<code>${delivery.last_status_code}</code>`}${
    delivery.last_error === null ? '' : html`${delivery.last_status_code === null ? '' : ' '}<span class="muted">${delivery.last_error}</span>`
  }`;
}

function when(delivery: DeliveryView, now: number): Html {
  if (delivery.status === 'delivered') return html`Delivered ${relativeCell(delivery.delivered_at, now, null, '—')}`;
  if (delivery.status === 'pending') return html`Next attempt ${relativeCell(delivery.next_attempt_at, now, null, '—')}`;
  return html`Gave up${delivery.last_attempt_at === null ? '' : html` ${relativeCell(delivery.last_attempt_at, now)}`}`;
}

function deliveryRow(delivery: DeliveryView, now: number): Html {
  const status = STATUSES[delivery.status] ?? { label: delivery.status, badge: 'expired' };
  return html`<tr>
  <th scope="row"><code>${delivery.event_type}</code><br><span class="muted">${delivery.event_id}</span></th>
  <td><span class="badge badge-${status.badge}">${status.label}</span></td>
  <td>${delivery.attempts}</td>
  <td>${lastAnswer(delivery)}</td>
  <td>${when(delivery, now)}</td>
  <td>${relativeCell(delivery.created_at, now)}</td>
</tr>`;
}

export function deliveriesTable(deliveries: readonly DeliveryView[], now: number): Html {
  if (deliveries.length === 0) return html`<p>No deliveries yet: each event this webhook wants makes one while it is enabled.</p>`;
  return html`<div class="table-wrap"><table>
  <caption class="visually-hidden">Deliveries, newest first</caption>
  <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last response</th><th scope="col">Next attempt or delivered</th><th scope="col">Event time</th></tr></thead>
  <tbody>${deliveries.map((delivery) => deliveryRow(delivery, now))}</tbody>
</table></div>`;
}
