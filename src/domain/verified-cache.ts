// Remembers, per key id, that a secret passed argon2 against a given hash, so a client that
// exchanges the same secret again (fleet restarts, retries, short-lived workers) costs an
// HMAC instead of ~25 ms of argon2. It answers only "this exact secret, for this exact hash,
// was verified recently": the key row is still read on every exchange and every status
// check (revoked, expired, app deleted) runs after it.
//
// What is stored is HMAC-SHA256 over (hash, secret) under a random key that lives only in
// this process, never the secret: a memory dump yields MACs useless anywhere else. Binding
// the hash means a key whose row changed no longer matches and goes through argon2 again.
// A mismatch of any kind is a miss, never a refusal, so the cache cannot turn a valid secret
// away nor accept a wrong one.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock.js';

export interface VerifiedCacheOptions {
  /** Key ids remembered at most; the least recently used is dropped first. 0: remember nothing. */
  readonly maxEntries: number;
  /** How long a verification counts, in ms. */
  readonly maxAgeMs: number;
  readonly clock: Clock;
}

export interface VerifiedCache {
  /** True when `secret` passed argon2 against `secretHash` for `keyId` within the age limit. */
  has(keyId: string, secretHash: string, secret: string): boolean;
  /** Call only after argon2 accepted `secret` against `secretHash`. */
  remember(keyId: string, secretHash: string, secret: string): void;
  readonly size: number;
}

interface Entry {
  readonly mac: Buffer;
  readonly verifiedAt: number;
}

export function createVerifiedCache(options: VerifiedCacheOptions): VerifiedCache {
  const { maxEntries, maxAgeMs, clock } = options;
  const macKey = randomBytes(32);
  // A Map iterates in insertion order; re-inserting on every hit keeps the least recently
  // used entry first, which is the one evicted.
  const entries = new Map<string, Entry>();

  function mac(secretHash: string, secret: string): Buffer {
    // The separator cannot occur in a PHC string, so (hash, secret) pairs cannot collide by concatenation.
    return createHmac('sha256', macKey).update(secretHash).update('\n').update(secret).digest();
  }

  return {
    has(keyId, secretHash, secret) {
      const entry = entries.get(keyId);
      if (entry === undefined) return false;
      if (clock.now() - entry.verifiedAt >= maxAgeMs) {
        entries.delete(keyId);
        return false;
      }
      if (!timingSafeEqual(entry.mac, mac(secretHash, secret))) return false;
      entries.delete(keyId);
      entries.set(keyId, entry);
      return true;
    },
    remember(keyId, secretHash, secret) {
      if (maxEntries === 0) return;
      entries.delete(keyId);
      entries.set(keyId, { mac: mac(secretHash, secret), verifiedAt: clock.now() });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done) break;
        entries.delete(oldest.value);
      }
    },
    get size() {
      return entries.size;
    },
  };
}

/** Heap one remembered key takes, measured (the entry, its MAC and its key id). */
const BYTES_PER_ENTRY = 350;

/**
 * Heap the rest of the server may need besides the cache: ~30 MiB live, and up to ~30 MiB
 * of throttle windows under a flood of failures from new addresses (see throttle.ts).
 */
const HEAP_FOR_THE_REST = 64 * 1024 * 1024;

/**
 * A warning when a full cache of `maxEntries` would not fit the process's heap limit next
 * to everything else, so an operator who raised SCOPE_AUTH_VERIFIED_CACHE_SIZE learns to
 * raise --max-old-space-size with it, before the process runs out of heap under load.
 */
export function cacheHeapWarning(maxEntries: number, heapLimitBytes: number): string | null {
  const needed = maxEntries * BYTES_PER_ENTRY + HEAP_FOR_THE_REST;
  if (needed <= heapLimitBytes) return null;
  const mib = (bytes: number) => Math.ceil(bytes / (1024 * 1024));
  return (
    `SCOPE_AUTH_VERIFIED_CACHE_SIZE=${maxEntries} can take ${mib(maxEntries * BYTES_PER_ENTRY)} MiB of heap, ` +
    `more than the ${mib(heapLimitBytes)} MiB heap limit leaves beside the rest of the server: ` +
    `start node with --max-old-space-size=${mib(needed) + 16} or more (see docs/internals.md, "Memory")`
  );
}
