// What the stored signing keys mean at a moment: which one signs, what the JWKS holds, and
// each key's state. Every process derives the same from the same rows and the time.
import { createHash, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { SigningAlg } from '../config.js';
import type { SigningKeyRow } from '../store/signing-keys.js';
import type { OpenedSigningKey } from './signing-key-material.js';

export interface ActiveSigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  /** A node:crypto key, made once per key at load, so signing converts nothing per token. */
  readonly privateKey: KeyObject;
}

export type SigningKeyState = 'standby' | 'pending' | 'active' | 'retired';

export interface Jwks {
  readonly body: string;
  readonly etag: string;
}

export interface KeyringView {
  readonly signing: ActiveSigningKey | null;
  readonly jwks: Jwks;
  readonly published: ReadonlySet<string>;
  /** The view holds until this time (the next stored time to pass), or until the rows change. */
  readonly validUntil: number;
}

/** When a key leaves the JWKS: once every token it signed has expired (null while it has no retirement). */
export const unpublishesAt = (row: SigningKeyRow, unpublishDelay: number) => (row.retires_at === null ? null : row.retires_at + unpublishDelay);

/** A key retired before it signed (a pending key overtaken by `rotate --now`, or a standby) never signs. */
export const neverSigns = (key: Pick<SigningKeyRow, 'activates_at' | 'retires_at'>) =>
  key.retires_at !== null && (key.activates_at === null || key.retires_at <= key.activates_at);

export function deriveView(rows: readonly SigningKeyRow[], opened: ReadonlyMap<string, OpenedSigningKey>, now: number, unpublishDelay: number): KeyringView {
  const published = rows.filter((r) => {
    const end = unpublishesAt(r, unpublishDelay);
    return end === null || end > now;
  });
  const active = [...rows].reverse().find((r) => r.activates_at !== null && r.activates_at <= now);
  const body = JSON.stringify({ keys: published.map((r) => JSON.parse(r.public_jwk) as JWK) });
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const changes = rows.flatMap((r) => [r.activates_at, unpublishesAt(r, unpublishDelay)]).filter((t): t is number => t !== null && t > now);
  const key = active && opened.get(active.kid);
  return {
    signing: active && key ? { kid: active.kid, alg: active.alg as SigningAlg, privateKey: key.privateKey } : null,
    jwks: { body, etag },
    published: new Set(published.map((r) => r.kid)),
    validUntil: Math.min(Infinity, ...changes),
  };
}

export function stateOf(row: SigningKeyRow, now: number, activeKid: string | undefined): SigningKeyState {
  if (row.kid === activeKid) return 'active';
  if (neverSigns(row)) return 'retired';
  if (row.activates_at === null) return 'standby';
  return row.activates_at > now ? 'pending' : 'retired';
}
