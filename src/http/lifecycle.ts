// Whether the server is draining (it got SIGTERM): /readyz says so at once, so a balancer
// stops sending new work, and every response from then on carries `Connection: close`, so
// keep-alive clients move to another instance after the answer they are waiting for instead
// of losing a request sent on a connection that is about to close.
import type { ServerResponse } from 'node:http';

export interface Lifecycle {
  readonly draining: boolean;
  /** Called by the request listener for every response before anything answers it. */
  track(res: ServerResponse): void;
  /** From now on: readiness fails and no connection is kept alive after its current answer. */
  drain(): void;
}

export function createLifecycle(): Lifecycle {
  let draining = false;
  // Responses still being worked on when draining begins get the header too.
  const inFlight = new Set<ServerResponse>();
  const untrack = function (this: ServerResponse) {
    inFlight.delete(this);
  };
  return {
    get draining() {
      return draining;
    },
    track(res) {
      if (draining) {
        res.setHeader('Connection', 'close');
        return;
      }
      inFlight.add(res);
      // `on`, not `once`: once wraps the listener in a new function per response.
      res.on('close', untrack);
    },
    drain() {
      draining = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      inFlight.clear();
    },
  };
}
