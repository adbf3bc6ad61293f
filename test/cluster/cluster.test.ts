// Three real server processes on one fresh PostgreSQL schema, behind a round-robin proxy, with
// load and faults: they must behave as one server and survive the database's bad days.
// Each scenario below once failed against the build before this suite: processes exited
// when their idle connections were terminated, a rotation split the instances, the throttle
// counted per instance, and a rolling restart lost the requests in flight.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../src/domain/credentials.js';
import { createVerifier } from '../../sdk/src/verifier.js';
import { runLoad, sleep, startCluster, type Cluster } from '../helpers/cluster.js';
import { PG_URL } from '../helpers/db.js';

const SIZE = 3;
const KEY_LIMIT = 10;
const SHUTDOWN_GRACE_SECONDS = 20;

interface Credentials {
  orgId: string;
  keyId: string;
  secret: string;
}

async function exchange(base: string, credentials: Credentials): Promise<Response> {
  return fetch(`${base}/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ org_id: credentials.orgId, key_id: credentials.keyId, secret: credentials.secret }),
  });
}

async function tokenOf(base: string, credentials: Credentials): Promise<string> {
  const res = await exchange(base, credentials);
  if (res.status !== 200) throw new Error(`exchange answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function admin(base: string, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe.skipIf(!PG_URL)(`a cluster of ${SIZE} instances on one PostgreSQL${PG_URL ? '' : ' (skipped: set SCOPE_AUTH_TEST_DATABASE_URL to run on PostgreSQL)'}`, () => {
  let cluster: Cluster;
  let root: Credentials;

  /** A fresh app holding `scopes` with one key, created through instance 0. */
  async function newClient(scopes: string[]): Promise<Credentials> {
    const token = await tokenOf(cluster.instances[0]!.url, root);
    const app = await admin(cluster.instances[0]!.url, token, 'POST', '/v1/apps', { name: `app ${Date.now()}`, scopes });
    expect(app.status).toBe(201);
    const appId = ((await app.json()) as { id: string }).id;
    const key = await admin(cluster.instances[0]!.url, token, 'POST', `/v1/apps/${appId}/keys`, { name: 'cluster key' });
    expect(key.status).toBe(201);
    const created = (await key.json()) as { key: { id: string }; secret: string };
    return { orgId: root.orgId, keyId: created.key.id, secret: created.secret };
  }

  beforeAll(async () => {
    cluster = await startCluster({
      size: SIZE,
      // The per-IP limit is out of the way: every request here comes from 127.0.0.1.
      env: {
        SCOPE_AUTH_THROTTLE_KEY_FAILURES: String(KEY_LIMIT),
        SCOPE_AUTH_THROTTLE_IP_FAILURES: '100000',
        SCOPE_AUTH_SHUTDOWN_GRACE: String(SHUTDOWN_GRACE_SECONDS),
      },
    });
    // A simultaneous cold start on an empty database.
    await Promise.all(Array.from({ length: SIZE }, (_, index) => cluster.start(index)));
    // One instance bootstrapped and wrote the credentials file (their output is no terminal).
    const announced = cluster.instances.map((instance) => instance.output()).filter((output) => output.includes('root-credentials.env'));
    expect(announced).toHaveLength(1);
    const written = readFileSync(join(cluster.env.SCOPE_AUTH_KEYS_DIR!, 'root-credentials.env'), 'utf8');
    const pick = (name: string) => new RegExp(`^${name}=(\\S+)$`, 'm').exec(written)![1]!;
    root = { orgId: pick('SCOPE_ORG_ID'), keyId: pick('SCOPE_API_KEY'), secret: pick('SCOPE_API_SECRET') };
  }, 120_000);
  afterAll(async () => cluster?.close(), 60_000);

  it('resolves a simultaneous cold start: one root org, one bootstrap, one view of the signing keys', async () => {
    const orgs = await cluster.query<{ count: string }>('select count(*) as count from orgs');
    expect(Number(orgs[0]!.count)).toBe(1);
    const jwks = await Promise.all(cluster.instances.map(async (instance) => (await fetch(`${instance.url}/.well-known/jwks.json`)).text()));
    expect(new Set(jwks).size).toBe(1);
    // Every instance signs with the same key.
    const kids = await Promise.all(cluster.instances.map(async (instance) => decodeProtectedHeader(await tokenOf(instance.url, root)).kid));
    expect(new Set(kids).size).toBe(1);
  });

  it('refuses the very next exchange on every other instance once a key is revoked on one', async () => {
    const client = await newClient(['tools:deploy']);
    // Each instance has verified the secret (and remembers it) before the revocation.
    for (const instance of cluster.instances) expect((await exchange(instance.url, client)).status).toBe(200);
    const token = await tokenOf(cluster.instances[1]!.url, root);
    expect((await admin(cluster.instances[1]!.url, token, 'POST', `/v1/keys/${client.keyId}/revoke`, {})).status).toBe(200);
    for (const instance of cluster.instances) expect((await exchange(instance.url, client)).status).toBe(401);
  });

  it('keeps every process up when all its database connections are terminated under load, and recovers within seconds', async () => {
    const client = await newClient(['tools:deploy']);
    let terminated = 0;
    let recoveredAfterMs = Number.NaN;
    const faults = (async () => {
      await sleep(500);
      const at = Date.now();
      terminated = await cluster.terminateBackends();
      // Recovered: twenty exchanges in a row succeed through the proxy.
      for (let streak = 0; streak < 20 && Date.now() - at < 10_000; ) {
        streak = (await exchange(cluster.url, client)).status === 200 ? streak + 1 : 0;
      }
      recoveredAfterMs = Date.now() - at;
      await sleep(500);
    })();
    const load = await runLoad(8, faults, async () => {
      const res = await exchange(cluster.url, client);
      return res.status === 200 || res.status === 503 ? null : `status ${res.status}: ${await res.text()}`;
    });
    expect(terminated).toBeGreaterThanOrEqual(SIZE);
    // An instance that exited shows why: its last output is the failure's message.
    for (const instance of cluster.instances) {
      expect(instance.child.exitCode, `instance on ${instance.port} exited:\n${instance.output().slice(-4000)}`).toBe(null);
    }
    expect(load.failures).toEqual([]);
    expect(recoveredAfterMs).toBeLessThan(5000);
  });

  it('loses no request in a rolling restart of every instance under load', async () => {
    const client = await newClient(['tools:deploy']);
    const exitCodes: (number | null)[] = [];
    const stopMs: number[] = [];
    const restarts = (async () => {
      for (let index = 0; index < SIZE; index++) {
        await sleep(300);
        const asked = Date.now();
        exitCodes.push(await cluster.stop(index));
        stopMs.push(Date.now() - asked);
        await cluster.start(index);
      }
      await sleep(300);
    })();
    const load = await runLoad(8, restarts, async () => {
      const res = await exchange(cluster.url, client);
      return res.status === 200 ? null : `status ${res.status}: ${await res.text()}`;
    });
    expect(exitCodes).toEqual(Array.from({ length: SIZE }, () => 0));
    expect(load.failures).toEqual([]);
    expect(load.ok).toBeGreaterThan(100);
    // Each instance exited once its connections closed, long before the grace would have cut
    // them: busy keep-alive connections were told to close after their current answer.
    for (const ms of stopMs) expect(ms).toBeLessThan(SHUTDOWN_GRACE_SECONDS * 1000 / 2);
  });

  it('rotates with --now under load with zero verification failures, across instances and behind the proxy', async () => {
    const verifier = createVerifier({ issuer: cluster.url, audience: cluster.url });
    const before = decodeProtectedHeader(await tokenOf(cluster.url, root)).kid;
    let rotated: { code: number | null; stderr: string } | undefined;
    const rotation = (async () => {
      await sleep(700);
      rotated = await cluster.cli.run(['signing-keys', 'rotate', '--now']);
      await sleep(1500);
    })();
    const kids = new Set<string>();
    let next = 0;
    const load = await runLoad(6, rotation, async () => {
      const token = await tokenOf(cluster.url, root);
      kids.add(decodeProtectedHeader(token).kid!);
      try {
        await verifier.verify(token);
      } catch (error) {
        return `SDK verifier: ${(error as Error).message}`;
      }
      // The admin API of an instance that did not mint it (round-robin: most likely another).
      const other = cluster.instances[next++ % SIZE]!;
      const res = await admin(other.url, token, 'GET', '/v1/scopes');
      return res.status === 200 ? null : `instance ${other.port} answered ${res.status}`;
    });
    expect(rotated?.code, rotated?.stderr).toBe(0);
    expect(load.failures).toEqual([]);
    expect(load.ok).toBeGreaterThan(50);
    // The load did see the new key sign.
    expect([...kids].filter((kid) => kid !== before).length).toBeGreaterThanOrEqual(1);
  });

  it('holds the per-(IP, key) limit for the deployment, for sequential and for concurrent guesses', async () => {
    const sequential = await newClient(['tools:deploy']);
    const statuses: number[] = [];
    for (let attempt = 0; attempt < KEY_LIMIT + 5; attempt++) {
      const instance = cluster.instances[attempt % SIZE]!;
      statuses.push((await exchange(instance.url, { ...sequential, secret: generateSecret() })).status);
    }
    expect(statuses.filter((status) => status === 401)).toHaveLength(KEY_LIMIT);
    expect(statuses.slice(KEY_LIMIT)).toEqual(Array.from({ length: 5 }, () => 429));

    const concurrent = await newClient(['tools:deploy']);
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, attempt) => exchange(cluster.instances[attempt % SIZE]!.url, { ...concurrent, secret: generateSecret() })),
    );
    const evaluated = burst.filter((res) => res.status === 401).length;
    expect(evaluated).toBeLessThanOrEqual(KEY_LIMIT);
    expect(burst.filter((res) => res.status === 429).length).toBe(60 - evaluated);
  });
});
