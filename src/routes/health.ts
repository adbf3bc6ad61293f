// Liveness, readiness and Prometheus metrics (unless SCOPE_AUTH_METRICS_PORT serves them
// apart: metrics-server.ts).
import { Router } from 'express';
import type { Keyring } from '../domain/keyring.js';
import type { Lifecycle } from '../http/lifecycle.js';
import type { Metrics } from '../http/metrics.js';
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

/** `metrics` null: /metrics is not on this router (and so is 404 here). */
export function healthRoutes(deps: { db: Db; keyring: Keyring; metrics: Metrics | null; lifecycle: Lifecycle }): Router {
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
  const { metrics } = deps;
  if (metrics !== null) {
    router.get('/metrics', async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.render());
    });
  }
  return router;
}
