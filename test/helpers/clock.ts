import type { Clock } from '../../src/domain/clock.js';

export interface TestClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

/** A clock that moves only when told to. */
export function createTestClock(start = Date.UTC(2026, 10, 23, 12, 0, 0)): TestClock {
  let now = start;
  return {
    now: () => now,
    set: (ms) => {
      now = ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}
