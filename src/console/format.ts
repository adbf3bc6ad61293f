// How the console words times, scopes and statuses. Times are written in UTC on the server
// (`<time datetime>` carries the exact instant; console.js rewrites the text as a relative
// time in the reader's locale), so a page reads the same without JavaScript.
import { isoTime } from '../domain/clock.js';
import { html, type Html } from './html.js';

/** `2027-01-31 14:05 UTC`. */
export function exactTime(ms: number): string {
  return `${isoTime(ms).slice(0, 16).replace('T', ' ')} UTC`;
}

/** `3 days ago` / `in 2 hours`, from the server's clock. */
export function relativeTime(ms: number, now: number): string {
  const seconds = Math.round((ms - now) / 1000);
  const abs = Math.abs(seconds);
  const units: [number, string][] = [
    [31_536_000, 'year'],
    [2_592_000, 'month'],
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, unit] of units) {
    if (abs >= size) {
      const n = Math.floor(abs / size);
      const words = `${n} ${unit}${n === 1 ? '' : 's'}`;
      return seconds < 0 ? `${words} ago` : `in ${words}`;
    }
  }
  return 'just now';
}

/** A date, exact on hover and focus (title) and for screen readers (the datetime). */
export function dateCell(ms: number | null, fallback = 'Never'): Html {
  if (ms === null) return html`${fallback}`;
  return html`<time datetime="${isoTime(ms)}" title="${exactTime(ms)}">${exactTime(ms).slice(0, 10)}</time>`;
}

/** A relative time; its exact time (and `extra`, such as an IP) in the title and in visually hidden text. */
export function relativeCell(ms: number | null, now: number, extra: string | null = null, fallback = 'Never'): Html {
  if (ms === null) return html`${fallback}`;
  const detail = `${exactTime(ms)}${extra === null ? '' : ` from ${extra}`}`;
  return html`<time datetime="${isoTime(ms)}" title="${detail}" data-relative tabindex="0">${relativeTime(ms, now)}</time><span class="visually-hidden"> (${detail})</span>`;
}

/**
 * Effective scopes, compact: a component's levels collapse to its highest one
 * (`agents:full` stands for view, edit and full).
 */
export function compactScopes(effective: readonly string[], components: readonly { name: string; levels: readonly string[] }[]): string[] {
  const held = new Set(effective);
  const out: string[] = [];
  const covered = new Set<string>();
  for (const component of components) {
    const scopes = component.levels.map((level) => `${component.name}:${level}`);
    for (const scope of scopes) if (held.has(scope)) covered.add(scope);
    const top = [...scopes].reverse().find((scope) => held.has(scope));
    if (top !== undefined) out.push(top);
  }
  for (const scope of effective) if (!covered.has(scope)) out.push(scope);
  return out;
}

export function statusBadge(status: 'active' | 'revoked' | 'expired'): Html {
  const label = status === 'active' ? 'Active' : status === 'revoked' ? 'Revoked' : 'Expired';
  return html`<span class="badge badge-${status}">${label}</span>`;
}
