// Bounds the argon2 work in flight. argon2 runs on libuv's threadpool; started without a
// bound, a burst of cold exchanges (a fleet restarting at once) queues there invisibly and
// every caller's latency grows with the burst. Here at most `concurrency` verifications run,
// at most `limit` wait in order, and anything beyond is refused at once so the caller can
// answer 503 with a Retry-After that reflects the work already queued.

export interface Argon2QueueOptions {
  /** Verifications running at once. */
  readonly concurrency: number;
  /** Verifications allowed to wait for a slot; 0 means none wait. */
  readonly limit: number;
  /** Told the number of waiting verifications whenever it changes (for a gauge). */
  readonly onDepth?: (waiting: number) => void;
}

export interface Argon2Queue {
  /** Runs `task` when a slot frees up; null at once when `limit` tasks are already waiting. */
  run<T>(task: () => Promise<T>): Promise<T> | null;
  /** Whole seconds after which a refused caller may reasonably retry: the time to drain what is queued, at least 1. */
  retryAfterSeconds(): number;
  readonly waiting: number;
  readonly active: number;
  /** Whether run() would refuse a task now. */
  readonly full: boolean;
}

/** A first guess of one verification's duration, until some have been timed. */
const INITIAL_ESTIMATE_SECONDS = 0.05;
/** Weight of the newest duration in the moving average. */
const SMOOTHING = 0.1;

export function createArgon2Queue(options: Argon2QueueOptions): Argon2Queue {
  const { concurrency, limit } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('argon2 queue: concurrency must be a whole number ≥ 1');
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError('argon2 queue: limit must be a whole number ≥ 0');
  const waiting: Array<() => void> = [];
  let active = 0;
  let averageSeconds = INITIAL_ESTIMATE_SECONDS;

  function depthChanged() {
    options.onDepth?.(waiting.length);
  }

  async function execute<T>(task: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await task();
    } finally {
      averageSeconds += SMOOTHING * ((performance.now() - started) / 1000 - averageSeconds);
      const next = waiting.shift();
      if (next) {
        depthChanged();
        next(); // hands this slot straight over, so `active` stays as it is
      } else {
        active--;
      }
    }
  }

  return {
    run(task) {
      if (active < concurrency) {
        active++;
        return execute(task);
      }
      if (waiting.length >= limit) return null;
      const slot = new Promise<void>((resolve) => waiting.push(resolve));
      depthChanged();
      return slot.then(() => execute(task));
    },
    retryAfterSeconds() {
      const rounds = (waiting.length + active) / concurrency;
      return Math.max(1, Math.ceil(rounds * averageSeconds));
    },
    get waiting() {
      return waiting.length;
    },
    get active() {
      return active;
    },
    get full() {
      return active >= concurrency && waiting.length >= limit;
    },
  };
}
