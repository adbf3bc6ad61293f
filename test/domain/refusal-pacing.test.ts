import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRefusalPacer } from '../../src/domain/refusal-pacing.js';
import { createTestClock } from '../helpers/clock.js';

/** Whether `promise` has settled, after pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe('holding back a refusal', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers no sooner than the time it is held until', async () => {
    const clock = createTestClock();
    const pacer = createRefusalPacer({ clock });
    const held = pacer.holdUntil(clock.now() + 25);
    expect(pacer.pending).toBe(1);
    await vi.advanceTimersByTimeAsync(24);
    expect(await settled(held)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(held)).toBe(true);
    expect(pacer.pending).toBe(0);
  });

  it('answers at once when that time has already passed', async () => {
    const clock = createTestClock();
    const pacer = createRefusalPacer({ clock });
    const answerAt = clock.now() + 25;
    clock.advance(30);
    expect(await settled(pacer.holdUntil(answerAt))).toBe(true);
    expect(pacer.pending).toBe(0);
  });

  it('answers at once, without a timer, when the most it may hold are already held', async () => {
    const clock = createTestClock();
    const pacer = createRefusalPacer({ clock, maxPending: 2 });
    const held = [pacer.holdUntil(clock.now() + 1000), pacer.holdUntil(clock.now() + 1000)];
    const timers = vi.getTimerCount();
    expect(await settled(pacer.holdUntil(clock.now() + 1000))).toBe(true);
    expect(vi.getTimerCount()).toBe(timers);
    expect(pacer.pending).toBe(2);

    await vi.advanceTimersByTimeAsync(1000);
    expect(await Promise.all(held.map(settled))).toEqual([true, true]);
    // Room again: the next one is held.
    const next = pacer.holdUntil(clock.now() + 1000);
    expect(await settled(next)).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
  });
});
