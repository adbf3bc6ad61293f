// How much the benchmark does: the full run, or the quick one that checks it works.

export const PHASES = ['cold', 'signin', 'warm', 'jwks', 'verifier', 'latency', 'scale', 'flood', 'timing'] as const;
export type Phase = (typeof PHASES)[number];

export interface Plan {
  readonly mode: 'full' | 'quick';
  /** Keys in the database for the "small" latency figure. */
  readonly smallKeys: number;
  /** Keys in the database for the "large" latency figure. */
  readonly largeKeys: number;
  /** Keys exchanged cold (once each), then reused warm. */
  readonly workingKeys: number;
  /** Other fresh keys exchanged first, so the measured cold exchanges find a warmed-up process. */
  readonly coldWarmupKeys: number;
  /** Seconds of each timed run (throughput), and of each latency run. */
  readonly seconds: number;
  readonly latencySeconds: number;
  readonly warmupSeconds: number;
  /** Connections for the throughput figures. */
  readonly connections: number;
  /** Runs of each latency measurement. */
  readonly latencyRounds: number;
  /** Working keys of the latency figure (the large side's server exchanges them cold first). */
  readonly latencyKeys: number;
  /**
   * Each comparison alternates ours and the baseline this many times and keeps the best run
   * of each: the machine may be shared, and the best run is the one least disturbed. Many
   * short rounds rather than a few long ones: a burst of other load then spoils a round of
   * each side, not the comparison.
   */
  readonly rounds: number;
  /** Cold exchanges of the legitimate client under the argon2 flood (figure 8). */
  readonly floodExchanges: number;
  /** Unknown key ids, and as many wrong secrets, refused in turn for the timing figure (9). */
  readonly timingRequests: number;
}

export function planFor(quick: boolean, largeKeys: number): Plan {
  return quick
    ? { mode: 'quick', smallKeys: 1_000, largeKeys, workingKeys: 150, coldWarmupKeys: 30, seconds: 2, latencySeconds: 2, warmupSeconds: 1, connections: 10, rounds: 1, latencyRounds: 1, latencyKeys: 60, floodExchanges: 20, timingRequests: 60 }
    : { mode: 'full', smallKeys: 1_000, largeKeys, workingKeys: 900, coldWarmupKeys: 60, seconds: 2, latencySeconds: 3, warmupSeconds: 1, connections: 10, rounds: 5, latencyRounds: 6, latencyKeys: 200, floodExchanges: 40, timingRequests: 200 };
}
