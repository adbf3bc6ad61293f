// Identifiers and the secret format (DESIGN "Identifiers and secret format").
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export const ID_PREFIXES = { org: 'org_', app: 'app_', key: 'key_', event: 'evt_', user: 'usr_', session: 'ses_', webhook: 'whk_', delivery: 'dlv_' } as const;
export type IdKind = keyof typeof ID_PREFIXES;

const ULID_PATTERN = '[0-7][0-9A-HJKMNP-TV-Z]{25}';
const ID_REGEX: Record<IdKind, RegExp> = {
  org: new RegExp(`^org_${ULID_PATTERN}$`),
  app: new RegExp(`^app_${ULID_PATTERN}$`),
  key: new RegExp(`^key_${ULID_PATTERN}$`),
  event: new RegExp(`^evt_${ULID_PATTERN}$`),
  user: new RegExp(`^usr_${ULID_PATTERN}$`),
  session: new RegExp(`^ses_${ULID_PATTERN}$`),
  webhook: new RegExp(`^whk_${ULID_PATTERN}$`),
  delivery: new RegExp(`^dlv_${ULID_PATTERN}$`),
};

// Monotonic within this process (ULID spec): ids made in the same millisecond increment
// the random part instead of drawing a new one, so "newest first" (id descending) keeps
// the order in which things happened, e.g. the two audit events of one roll.
let lastTime = -1;
let lastRandom: number[] = [];

function randomDigits(): number[] {
  const bytes = randomBytes(16);
  return Array.from(bytes, (b) => b & 31);
}

/** Adds one to a base-32 digit string; null on overflow (astronomically unlikely). */
function increment(digits: readonly number[]): number[] | null {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 31) {
      next[i]! += 1;
      return next;
    }
    next[i] = 0;
  }
  return null;
}

/** A ULID: 48-bit millisecond time then 80 random bits, Crockford base32, 26 chars. */
export function ulid(nowMs: number): string {
  let time = '';
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const digits = (nowMs === lastTime && increment(lastRandom)) || randomDigits();
  lastTime = nowMs;
  lastRandom = digits;
  return time + digits.map((d) => CROCKFORD[d]).join('');
}

export function newId(kind: IdKind, nowMs: number): string {
  return ID_PREFIXES[kind] + ulid(nowMs);
}

export function isId(kind: IdKind, value: string): boolean {
  return ID_REGEX[kind].test(value);
}

/** Uniform base62 characters from the CSPRNG (rejection sampling: no modulo bias). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function base62Checksum(text: string): string {
  let value = crc32(text);
  let out = '';
  while (value > 0) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out.padStart(6, '0');
}

const SECRET_PREFIX = 'secret_';
const SECRET_SHAPE = /^secret_[0-9A-Za-z]{46}$/;

/** `secret_` + 40 random base62 chars + 6-char base62 CRC32 of everything before it. */
export function generateSecret(): string {
  const head = SECRET_PREFIX + randomBase62(40);
  return head + base62Checksum(head);
}

/** True when the secret has the right shape and checksum; costs no I/O and no hashing. */
export function isWellFormedSecret(secret: string): boolean {
  if (!SECRET_SHAPE.test(secret)) return false;
  return base62Checksum(secret.slice(0, -6)) === secret.slice(-6);
}

/** The last 4 characters, stored and shown to tell keys apart. */
export function secretHint(secret: string): string {
  return secret.slice(-4);
}
