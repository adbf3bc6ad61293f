// Signing keys (the root org's owners): the keys that sign tokens, newest first, with their
// state (active signs now, standby signs after the next rotation, pending signs soon, retired
// stays in the JWKS until its tokens expired) and dates; "Rotate" on a confirmation page.
import { Router } from 'express';
import { requireRootAdmin } from '../domain/orgs.js';
import { listSigningKeys, rotateSigningKeys } from '../domain/signing-key-admin.js';
import type { SigningKeyInfo } from '../domain/keyring.js';
import { neverSigns } from '../domain/keyring-view.js';
import { HttpError } from '../errors.js';
import { formRefusal } from './app-pages.js';
import { dateCell, relativeCell } from './format.js';
import { formAlert, readForm, type FieldError } from './forms.js';
import { html } from './html.js';
import type { PageDeps } from './index.js';
import { csrfField, type Viewer } from './layout.js';
import { dialogButton, notice } from './parts.js';
import { signedIn } from './session.js';

const STATES: Readonly<Record<string, { label: string; badge: string }>> = {
  active: { label: 'Active', badge: 'active' },
  pending: { label: 'Pending', badge: 'expired' },
  standby: { label: 'Standby', badge: 'expired' },
  retired: { label: 'Retired', badge: 'revoked' },
};

function keyRow(key: SigningKeyInfo, now: number) {
  const state = STATES[key.state] ?? { label: key.state, badge: 'expired' };
  return html`<tr>
  <th scope="row"><code>${key.kid}</code></th>
  <td>${key.alg}</td>
  <td>${key.generation}</td>
  <td><span class="badge badge-${state.badge}">${state.label}</span></td>
  <td>${dateCell(key.created_at)}</td>
  <td>${neverSigns(key) ? 'Never' : key.activates_at === null ? 'At the next rotation' : relativeCell(key.activates_at, now)}</td>
  <td>${relativeCell(key.retires_at, now, null, '—')}</td>
  <td>${relativeCell(key.unpublishes_at, now, null, '—')}</td>
</tr>`;
}

export function signingKeyRoutes(deps: PageDeps): Router {
  const { admin, layout } = deps;
  const keys = { db: admin.db, clock: admin.clock, keyring: deps.keyring };
  const router = Router();

  router.get('/console/signing-keys', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const list = await listSigningKeys(keys, actor);
    const now = admin.clock.now();
    res.type('html').send(
      layout({
        title: 'Signing keys',
        viewer,
        section: 'signing-keys',
        body: html`<div class="page-head"><h1>Signing keys</h1>${dialogButton('Rotate', '/console/signing-keys/rotate', { primary: true })}</div>
${notice(req.query['done'])}
<p>The keys that sign every token; their public halves are the JWKS. The server rotates them on its own every ${deps.config.signingKeyRotationDays} days.</p>
<div class="table-wrap"><table>
  <caption class="visually-hidden">Signing keys, newest first</caption>
  <thead><tr><th scope="col">Key ID</th><th scope="col">Algorithm</th><th scope="col">Generation</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Signs from</th><th scope="col">Retires</th><th scope="col">Leaves the JWKS</th></tr></thead>
  <tbody>${list.map((key) => keyRow(key, now))}</tbody>
</table></div>`,
      }),
    );
  });

  const rotatePage = (viewer: Viewer, error: FieldError | null) =>
    layout({
      title: 'Rotate the signing keys?',
      viewer,
      section: 'signing-keys',
      body: html`<form method="post" action="/console/signing-keys/rotate" class="stack narrow">
  <h1>Rotate the signing keys?</h1>
  ${formAlert(error)}
  ${csrfField(viewer)}
  <p>The standby key, already in the JWKS, signs from now on once every JWKS cache has had it (${deps.config.jwksMaxAgeSeconds} s after it was published); a new standby is made. The key signing until now stays in the JWKS until every token it signed has expired.</p>
  <div class="field"><label><input type="checkbox" name="immediate" value="yes"> At once</label><p class="hint">When the current key may be compromised: the standby signs now, even if some caches have not fetched it yet.</p></div>
  <div class="buttons"><button type="submit" class="primary">Rotate signing keys</button> <a href="/console/signing-keys" class="button secondary" data-close>Cancel</a></div>
</form>`,
    });

  router.get('/console/signing-keys/rotate', deps.session, async (_req, res) => {
    const { actor, viewer } = signedIn(res);
    await requireRootAdmin(admin, actor);
    res.type('html').send(rotatePage(viewer, null));
  });

  router.post('/console/signing-keys/rotate', deps.session, async (req, res) => {
    const { actor, viewer } = signedIn(res);
    const form = await readForm(req, res);
    try {
      await rotateSigningKeys(keys, actor, { immediate: form.get('immediate') === 'yes' });
      res.redirect(303, '/console/signing-keys?done=signing-keys-rotated');
    } catch (error) {
      const refusal = formRefusal(error, {});
      if (refusal === null) throw error;
      res.status((error as HttpError).status).type('html').send(rotatePage(viewer, refusal));
    }
  });

  return router;
}
