/** Milliseconds since the epoch; injected so expiry, rotation and refresh are testable without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
