// Liveness, readiness and Prometheus metrics.
import { Router } from 'express';
import type { Registry } from 'prom-client';
import type { Keyring } from '../domain/keyring.js';
import type { Lifecycle } from '../http/lifecycle.js';
import { ping, type Db } from '../store/database.js';

/** /readyz answers within this, whatever the database does: a balancer's probe must not hang. */
export const READINESS_DEADLINE_MS = 1000;

type DatabaseCheck = 'ok' | 'unreachable' | 'timeout';

async function checkDatabase(db: Db): Promise<DatabaseCheck> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<DatabaseCheck>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), READINESS_DEADLINE_MS);
  });
  const probe = ping(db).then(
    (): DatabaseCheck => 'ok',
    (): DatabaseCheck => 'unreachable',
  );
  try {
    return await Promise.race([probe, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(deps: { db: Db; keyring: Keyring; registry: Registry; lifecycle: Lifecycle }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    // Draining is answered without asking the database: the answer must be immediate.
    if (deps.lifecycle.draining) {
      res.status(503).json({ status: 'draining' });
      return;
    }
    const database = await checkDatabase(deps.db);
    const signingKey = deps.keyring.ready() ? 'ok' : 'missing';
    const ready = database === 'ok' && signingKey === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: { database, signing_key: signingKey } });
  });
  router.get('/metrics', async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  return router;
}
