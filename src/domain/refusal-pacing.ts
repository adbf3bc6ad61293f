// Holds back refusals that are found without argon2, so that their timing does not tell what
// the answer does not. An unknown key id is known after one indexed read (~1 ms), a wrong
// secret only after argon2 (~20–40 ms): answered as soon as known, one request would tell
// whether a key id exists. The exchange holds such a refusal until a verification started
// when it was found would have finished (the argon2 queue's estimate, from the verifications
// it timed). A timer, not CPU work, and no argon2 slot: holding costs a closure per request.
//
// The number held at once is bounded; beyond it a refusal is answered at once. Reaching the
// bound takes `maxPending` refusals within one verification time (~40,000 a second at 25 ms),
// and the throttle allows each address only SCOPE_AUTH_THROTTLE_IP_FAILURES failures a
// minute, so it takes a flood from tens of thousands of addresses, and what it learns then
// it learns only while it lasts.
import type { Clock } from './clock.js';

export interface RefusalPacer {
  /** Resolves once the clock reads `untilMs`: at once when it already does, or when `maxPending` are held. */
  holdUntil(untilMs: number): Promise<void>;
  /** Refusals being held now. */
  readonly pending: number;
}

/**
 * Refusals held at once at most: ~1 KiB each with their request, so ~1 MiB; at a 25 ms
 * verification it takes ~40,000 refusals a second to reach.
 */
export const MAX_PENDING_REFUSALS = 1024;

export function createRefusalPacer(options: { clock: Clock; maxPending?: number }): RefusalPacer {
  const { clock } = options;
  const maxPending = options.maxPending ?? MAX_PENDING_REFUSALS;
  let pending = 0;
  return {
    holdUntil(untilMs) {
      const delay = untilMs - clock.now();
      if (delay <= 0 || pending >= maxPending) return Promise.resolve();
      pending++;
      return new Promise((resolve) =>
        setTimeout(() => {
          pending--;
          resolve();
        }, delay),
      );
    },
    get pending() {
      return pending;
    },
  };
}
