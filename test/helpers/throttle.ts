// For the throttle's route tests: an app instance listening on a real port (so a burst is
// really concurrent), whose argon2 verifications are counted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type AppDeps } from '../../src/app.js';
import type { SecretHasher } from '../../src/domain/hashing.js';
import type { TestCredentials } from './context.js';

export interface CountedInstance {
  readonly url: string;
  /** argon2 verifications this instance has run. */
  readonly verifications: () => number;
  /** POST /v1/token from `ip` (the app must trust X-Forwarded-For); resolves to the status and Retry-After. */
  exchange(ip: string, credentials: TestCredentials): Promise<{ status: number; retryAfter: string | null }>;
  close(): Promise<void>;
}

/** `deps` as a listening app whose hasher counts the verifications it runs. */
export async function countedInstance(deps: AppDeps): Promise<CountedInstance> {
  let verifications = 0;
  const hasher: SecretHasher = {
    hash: (secret) => deps.hasher.hash(secret),
    verify: (hash, secret) => {
      verifications++;
      return deps.hasher.verify(hash, secret);
    },
  };
  const server: Server = createServer(createApp({ ...deps, hasher }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    verifications: () => verifications,
    async exchange(ip, c) {
      const res = await fetch(`${url}/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ org_id: c.orgId, key_id: c.keyId, secret: c.secret }),
      });
      await res.arrayBuffer();
      return { status: res.status, retryAfter: res.headers.get('retry-after') };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** How many of each status. */
export function tally(results: readonly { status: number }[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of results) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}
