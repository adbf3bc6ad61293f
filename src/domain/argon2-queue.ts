// Bounds the argon2 work in flight, and shares the wait fairly among clients. argon2 runs on
// libuv's threadpool; started without a bound, a burst of cold exchanges (a fleet restarting
// at once) queues there invisibly and every caller's latency grows with the burst. Here at
// most `concurrency` verifications run, at most `limit` wait, and anything beyond is refused
// at once so the caller can answer 503 with a Retry-After that reflects the work queued.
//
// Waiting verifications are served round-robin by source (the client as the throttle counts
// it: an IPv4 address or an IPv6 /64): one of each source in turn, each source's own in
// arrival order. So a flood from many addresses does not make a client from another one wait
// behind all of it: a newcomer goes to the end of the rotation and starts within one round
// (one verification of each source waiting), however many each of them has queued.
//
// A source's share of the waiting slots: all of them while nobody else wants them (a fleet
// restarting behind one address is not refused while the server is otherwise idle), an equal
// share once the queue is full. A full queue admits a task from a source holding at least two
// fewer waiting slots than the largest holder, and makes room by pushing out the largest
// holder's newest task (answered as a refusal, `{ ran: false }`); a task from any other source
// is refused at once. The shares so converge on limit ÷ sources, within one of each other,
// without a fixed per-source cap that would either refuse a lone client needlessly or, set
// higher, let limit ÷ cap addresses fill the queue. A client from its own address is thus
// always admitted while fewer sources than `limit` keep the queue full; beyond that every
// source holds one slot and a newcomer is refused like the others, with a Retry-After.

export interface Argon2QueueOptions {
  /** Verifications running at once. */
  readonly concurrency: number;
  /** Verifications allowed to wait for a slot; 0 means none wait. */
  readonly limit: number;
  /** Told the number of waiting verifications whenever it changes (for a gauge). */
  readonly onDepth?: (waiting: number) => void;
  /** A first guess of one verification's duration, until some have been timed. */
  readonly initialEstimateSeconds?: number;
}

/** A task's fate: its value, or not run (refused at once, or pushed out of a full queue for a source holding fewer waiting slots). */
export type QueueOutcome<T> = { readonly ran: true; readonly value: T } | { readonly ran: false };

export interface Argon2Queue {
  /** Runs `task`, from `source`, when its turn comes; `{ ran: false }` when it is refused (see admits) or pushed out. */
  run<T>(source: string, task: () => Promise<T>): Promise<QueueOutcome<T>>;
  /** Whether run() would take a task from `source` now. */
  admits(source: string): boolean;
  /** Whole seconds after which a refused caller may reasonably retry: the time to drain what is queued, at least 1. */
  retryAfterSeconds(): number;
  /**
   * About how long a task submitted now from `source` would take to finish: its wait for a
   * turn, then one verification of the median duration of the recent ones.
   */
  expectedSeconds(source: string): number;
  readonly waiting: number;
  readonly active: number;
}

const NOT_RUN: QueueOutcome<never> = Object.freeze({ ran: false });

/** A first guess of one verification's duration, until some have been timed. */
const INITIAL_ESTIMATE_SECONDS = 0.05;
/** Weight of the newest duration in the moving average. */
const SMOOTHING = 0.1;
/**
 * Recent durations whose median is a typical verification: on a shared host argon2's
 * durations are skewed (p99 three times p50 measured), and a mean would make an answer
 * timed to look like a verification take longer than most verifications do.
 */
const RECENT = 31;

interface Waiter {
  start(): void;
  pushOut(): void;
}

/** A FIFO with O(1) shift and pop: an array and a head index, compacted now and then. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length() {
    return this.items.length - this.head;
  }
  push(item: T) {
    this.items.push(item);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  pop(): T | undefined {
    return this.length > 0 ? this.items.pop() : undefined;
  }
}

export function createArgon2Queue(options: Argon2QueueOptions): Argon2Queue {
  const { concurrency, limit } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('argon2 queue: concurrency must be a whole number ≥ 1');
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError('argon2 queue: limit must be a whole number ≥ 0');
  /** Each source's waiting tasks, oldest first; a source is here only while it has some. */
  const bySource = new Map<string, Fifo<Waiter>>();
  /** The sources with waiting tasks, the next to be served first. */
  const rotation = new Fifo<string>();
  /** The sources holding exactly n waiting slots, by n: the largest holder in O(1), as counts move by one. */
  const holders = new Map<number, Set<string>>();
  let largest = 0;
  let waiting = 0;
  let active = 0;
  let averageSeconds = options.initialEstimateSeconds ?? INITIAL_ESTIMATE_SECONDS;
  let typicalSeconds = averageSeconds;
  const recent: number[] = [];
  let oldest = 0;

  function timed(seconds: number) {
    averageSeconds += SMOOTHING * (seconds - averageSeconds);
    if (recent.length < RECENT) recent.push(seconds);
    else recent[oldest++ % RECENT] = seconds;
    const sorted = recent.slice().sort((a, b) => a - b);
    typicalSeconds = sorted[sorted.length >> 1]!;
  }

  function depthChanged() {
    options.onDepth?.(waiting);
  }

  function counted(source: string, from: number, to: number) {
    if (from > 0) {
      const set = holders.get(from)!;
      set.delete(source);
      if (set.size === 0) {
        holders.delete(from);
        if (from === largest && to < from) largest = to;
      }
    }
    if (to > 0) {
      let set = holders.get(to);
      if (!set) holders.set(to, (set = new Set()));
      set.add(source);
      if (to > largest) largest = to;
    }
  }

  function enqueue(source: string, waiter: Waiter) {
    let own = bySource.get(source);
    if (!own) {
      bySource.set(source, (own = new Fifo()));
      rotation.push(source);
    }
    own.push(waiter);
    counted(source, own.length - 1, own.length);
    waiting++;
  }

  /** The next task in turn: the oldest of the source at the head of the rotation, which then goes to its end. */
  function dequeue(): Waiter | undefined {
    const source = rotation.shift();
    if (source === undefined) return undefined;
    const own = bySource.get(source)!;
    const next = own.shift()!;
    counted(source, own.length + 1, own.length);
    if (own.length > 0) rotation.push(source);
    else bySource.delete(source);
    waiting--;
    return next;
  }

  /** Frees a waiting slot: the newest task of a largest holder, which keeps at least one (it holds two more than the newcomer). */
  function pushOutLargest() {
    const source = holders.get(largest)!.values().next().value!;
    const own = bySource.get(source)!;
    const pushed = own.pop()!;
    counted(source, own.length + 1, own.length);
    waiting--;
    pushed.pushOut();
  }

  async function execute<T>(task: () => Promise<T>): Promise<QueueOutcome<T>> {
    const started = performance.now();
    try {
      return { ran: true, value: await task() };
    } finally {
      timed((performance.now() - started) / 1000);
      const next = dequeue();
      if (next) {
        depthChanged();
        next.start(); // hands this slot straight over, so `active` stays as it is
      } else {
        active--;
      }
    }
  }

  function admits(source: string): boolean {
    if (active < concurrency || waiting < limit) return true;
    // Full: only a source whose taking a slot from the largest holder leaves the shares more even.
    return (bySource.get(source)?.length ?? 0) + 2 <= largest;
  }

  return {
    run<T>(source: string, task: () => Promise<T>): Promise<QueueOutcome<T>> {
      if (active < concurrency) {
        active++;
        return execute(task);
      }
      if (!admits(source)) return Promise.resolve(NOT_RUN);
      const full = waiting >= limit;
      if (full) pushOutLargest();
      const outcome = new Promise<QueueOutcome<T>>((resolve, reject) =>
        enqueue(source, {
          start: () => execute(task).then(resolve, reject),
          pushOut: () => resolve(NOT_RUN),
        }),
      );
      if (!full) depthChanged();
      return outcome;
    },
    admits,
    retryAfterSeconds() {
      const rounds = (waiting + active) / concurrency;
      return Math.max(1, Math.ceil(rounds * averageSeconds));
    },
    expectedSeconds(source) {
      if (active < concurrency) return typicalSeconds;
      // Each source in the rotation is served up to one more time than this one has waiting.
      const ahead = Math.min(waiting, rotation.length * ((bySource.get(source)?.length ?? 0) + 1));
      return typicalSeconds * (1 + ahead / concurrency);
    },
    get waiting() {
      return waiting;
    },
    get active() {
      return active;
    },
  };
}
