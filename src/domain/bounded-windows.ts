// Per-key values that hold until their window ends, in memory, with a bound on how many are
// kept: a flood of ever new keys (new addresses, new key ids) costs at most `maxTracked`
// entries, ~250 bytes each with their keys, instead of growing the heap until the process
// dies. When full, entries whose window has ended go first, then the ones stored longest ago:
// under such a flood the oldest are forgotten early, which weakens the throttle for those
// callers but never blocks anyone wrongly.

export interface Windowed {
  readonly endsAt: number;
}

export interface BoundedWindows<V extends Windowed> {
  /** The key's value while its window is open at `now` (an ended one is dropped). */
  open(key: string, now: number): V | undefined;
  /** Stores the key's value, replacing any, making room first when full. */
  set(key: string, value: V, now: number): void;
  /** Drops entries from the front whose window ended by `now`; returns how many. */
  sweep(now: number): number;
  readonly size: number;
}

export function createBoundedWindows<V extends Windowed>(maxTracked: number): BoundedWindows<V> {
  // A Map iterates in insertion order, and windows are mostly stored as they open and all last
  // a minute, so the first entries are (nearly always) the ones that end first.
  const entries = new Map<string, V>();

  return {
    open(key, now) {
      const value = entries.get(key);
      if (value !== undefined && value.endsAt <= now) {
        entries.delete(key);
        return undefined;
      }
      return value;
    },
    set(key, value, now) {
      // Re-inserted, not updated in place, so it moves to the back with the newest.
      if (!entries.delete(key) && entries.size >= maxTracked) {
        // Make room for a tenth of the bound at once (a pass per entry would cost a flood a
        // scan of the map's front on every new key): every entry that has ended, and then, if
        // that is not enough, the oldest open ones.
        let toDrop = Math.max(1, Math.floor(maxTracked / 10));
        for (const [oldKey, oldest] of entries) {
          if (toDrop <= 0 && oldest.endsAt > now) break;
          entries.delete(oldKey);
          toDrop--;
        }
      }
      entries.set(key, value);
    },
    sweep(now) {
      let dropped = 0;
      for (const [key, value] of entries) {
        if (value.endsAt > now) break;
        entries.delete(key);
        dropped++;
      }
      return dropped;
    },
    get size() {
      return entries.size;
    },
  };
}
