// When a failed delivery is tried again: exponential backoff (×4 from 10 s, at most 4 h
// apart), each wait spread by ±25 % so the deliveries of one outage do not return in a
// herd, for 24 hours from the event; a last attempt at the 24th hour, then `failed`.

export const DELIVERY_WINDOW_MS = 24 * 3_600_000;
const FIRST_RETRY_MS = 10_000;
const FACTOR = 4;
const LONGEST_WAIT_MS = 4 * 3_600_000;
const JITTER = 0.25;

/** The wait after the `failures`-th failed attempt, before jitter. */
export function baseRetryDelayMs(failures: number): number {
  return Math.min(FIRST_RETRY_MS * FACTOR ** Math.max(0, failures - 1), LONGEST_WAIT_MS);
}

/**
 * When to try a delivery created at `createdAt` again after its `failures`-th failure at
 * `now`, or null: give up. `random` is in [0, 1).
 */
export function nextAttemptAt(createdAt: number, now: number, failures: number, random: () => number): number | null {
  const deadline = createdAt + DELIVERY_WINDOW_MS;
  if (now >= deadline) return null;
  const wait = baseRetryDelayMs(failures) * (1 - JITTER + 2 * JITTER * random());
  return Math.min(Math.round(now + wait), deadline);
}
