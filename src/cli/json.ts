// --json output: the HTTP API's objects, built by its renderers (src/http/render.ts), and
// signing keys, which only the CLI shows (times in ISO 8601, as everywhere in the API).
import type { CreatedKey } from '../domain/keys.js';
import type { CreatedOrgView } from '../domain/orgs.js';
import type { Rotation, SigningKeyInfo } from '../domain/keyring.js';
import { isoTime, renderApp, renderKey, renderOrg } from '../http/render.js';

/** As POST /v1/orgs answers: `{ org, admin_app, key, secret }`. */
export function createdOrgJson(created: CreatedOrgView) {
  return { org: renderOrg(created.org), admin_app: renderApp(created.adminApp), key: renderKey(created.key), secret: created.secret };
}

/** As POST /v1/apps/{app_id}/keys and POST /v1/keys/{key_id}/roll answer: `{ key, secret }`. */
export function createdKeyJson(created: CreatedKey) {
  return { key: renderKey(created.key), secret: created.secret };
}

export function signingKeyJson(key: SigningKeyInfo) {
  return {
    kid: key.kid,
    alg: key.alg,
    generation: key.generation,
    state: key.state,
    created_at: isoTime(key.created_at),
    activates_at: isoTime(key.activates_at),
    retires_at: isoTime(key.retires_at),
    unpublishes_at: isoTime(key.unpublishes_at),
  };
}

/** `signing-keys rotate --json`: the key that signs, the new standby, the key it replaces, and a discarded standby's kid. */
export function rotationJson(rotation: Rotation) {
  return {
    activated: signingKeyJson(rotation.activated),
    standby: signingKeyJson(rotation.standby),
    previous: rotation.previous === null ? null : signingKeyJson(rotation.previous),
    discarded_standby: rotation.discardedStandby,
  };
}
