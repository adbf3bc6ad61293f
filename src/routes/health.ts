// Liveness, readiness and Prometheus metrics.
import { Router } from 'express';
import type { Registry } from 'prom-client';
import type { Keyring } from '../domain/keyring.js';
import { ping, type Db } from '../store/database.js';

export function healthRoutes(deps: { db: Db; keyring: Keyring; registry: Registry }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const database = await ping(deps.db).then(
      () => 'ok',
      () => 'unreachable',
    );
    const signingKey = deps.keyring.ready() ? 'ok' : 'missing';
    const ready = database === 'ok' && signingKey === 'ok';
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: ready ? 'ready' : 'not_ready', checks: { database, signing_key: signingKey } });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  return router;
}
