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
