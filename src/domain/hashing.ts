// Secrets are stored only as argon2id PHC strings.
import argon2 from 'argon2';

export interface SecretHasher {
  hash(secret: string): Promise<string>;
  /** False for a wrong secret or an unreadable hash; never throws for either. */
  verify(hash: string, secret: string): Promise<boolean>;
}

export interface Argon2Params {
  readonly memoryKiB: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export function createArgon2Hasher(params: Argon2Params): SecretHasher {
  const options = {
    type: argon2.argon2id,
    memoryCost: params.memoryKiB,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
  } as const;
  return {
    hash: (secret) => argon2.hash(secret, options),
    async verify(hash, secret) {
      try {
        return await argon2.verify(hash, secret);
      } catch {
        return false;
      }
    },
  };
}

/** Seconds of argon2id work per KiB of memory and pass: ~19.5 ms for 19456 KiB × 2 on the 2-vCPU EPYC of the benchmark's results. */
const SECONDS_PER_KIB_PASS = 0.5e-6;

/**
 * A first guess of one verification's duration with these parameters (argon2's work grows
 * with memory × passes), for the argon2 queue until it has timed some: a machine twice as
 * slow makes it half the truth for the first few dozen verifications, no more.
 */
export function estimatedVerifySeconds(params: Argon2Params): number {
  return params.memoryKiB * params.timeCost * SECONDS_PER_KIB_PASS;
}
