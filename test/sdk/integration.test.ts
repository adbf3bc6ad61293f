import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ScopeAuthClient, ScopeAuthError } from '../../sdk/src/client.js';
import type { ScopeAuthClientOptions } from '../../sdk/src/client.js';
import { createVerifier, TokenVerificationError } from '../../sdk/src/verifier.js';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

let auth: TestServer;

beforeAll(async () => {
  auth = await startTestServer();
}, 60_000);
afterAll(async () => {
  await auth?.close();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A client for the bootstrap admin key, counting its exchanges. */
function clientFor(server: TestServer, options: ScopeAuthClientOptions = {}) {
  let exchanges = 0;
  const client = new ScopeAuthClient({
    orgId: server.orgId,
    apiKey: server.keyId,
    apiSecret: server.secret,
    authUrl: server.url,
    env: {},
    fetch: (input, init) => {
      if (String(input).endsWith('/v1/token')) exchanges += 1;
      return fetch(input, init);
    },
    ...options,
  });
  return { client, exchanges: () => exchanges };
}

async function failure<E extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => E): Promise<E> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as E;
}

describe('the SDK against a real scope-auth server', () => {
  it('exchanges the key for an at+jwt the verifier accepts, with the contract claims', async () => {
    const { client } = clientFor(auth);
    const token = await client.getToken();
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });

    const claims = await createVerifier({ issuer: auth.issuer, audience: auth.issuer }).verify(token);
    expect(claims).toMatchObject({ iss: auth.issuer, sub: auth.keyId, client_id: auth.keyId, aud: auth.issuer, org_id: auth.orgId });
    expect(claims.app_id).toMatch(/^app_/);
    expect(claims.scope.split(' ')).toEqual(expect.arrayContaining(['admin.apps:view', 'admin.apps:edit', 'admin.apps:full']));
    expect(claims.exp - claims.iat).toBe(900);
  });

  it('serves 50 concurrent callers from one exchange', async () => {
    const { client, exchanges } = clientFor(auth);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(exchanges()).toBe(1);
  });

  it('gets a token narrowed to the requested scope', async () => {
    const { client } = clientFor(auth, { scope: 'admin.apps:view' });
    const claims = await createVerifier({ issuer: auth.issuer, audience: auth.issuer }).verify(await client.getToken());
    expect(claims.scope).toBe('admin.apps:view');
  });

  it('surfaces a wrong secret as invalid_client after a single attempt', async () => {
    const { client, exchanges } = clientFor(auth, { apiSecret: `secret_${'A'.repeat(46)}` });
    const err = await failure(client.getToken(), ScopeAuthError);
    expect([err.code, err.status]).toEqual(['invalid_client', 401]);
    expect(exchanges()).toBe(1);
  });

  it('surfaces a scope the app does not hold as invalid_scope', async () => {
    const { client } = clientFor(auth, { scope: 'runtime:run' });
    const err = await failure(client.getToken(), ScopeAuthError);
    expect([err.code, err.status]).toEqual(['invalid_scope', 400]);
  });

  it('rejects the token in a verifier that expects another audience', async () => {
    const { client } = clientFor(auth);
    const err = await failure(
      createVerifier({ issuer: auth.issuer, audience: 'https://someone-else.test' }).verify(await client.getToken()),
      TokenVerificationError,
    );
    expect([err.code, err.claim]).toEqual(['claim_invalid', 'aud']);
  });

  it('guards a downstream Express service: 200 with req.auth, 403 for a missing scope, 401 without a token', async () => {
    const verifier = createVerifier({ issuer: auth.issuer, audience: auth.issuer, realm: 'downstream' });
    const app = express();
    app.get('/apps', verifier.require('admin.apps:view'), (req, res) => {
      res.json({ org: req.auth?.org_id, key: req.auth?.sub });
    });
    app.post('/runs', verifier.require('runtime:run'), (_req, res) => {
      res.status(201).end();
    });
    const downstream: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => downstream.once('listening', resolve));
    const base = `http://127.0.0.1:${(downstream.address() as AddressInfo).port}`;
    try {
      const { client } = clientFor(auth);

      const ok = await client.fetch(`${base}/apps`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ org: auth.orgId, key: auth.keyId });

      const forbidden = await client.fetch(`${base}/runs`, { method: 'POST' });
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers.get('www-authenticate')).toBe(
        'Bearer realm="downstream", error="insufficient_scope", error_description="The access token lacks the scope runtime:run", scope="runtime:run"',
      );

      const anonymous = await fetch(`${base}/apps`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="downstream"');
    } finally {
      downstream.closeAllConnections();
      await new Promise((resolve) => downstream.close(resolve));
    }
  });

  it('keeps verifying across a signing-key rotation without recreating the verifier', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const verifier = createVerifier({ issuer: auth.issuer, audience: auth.issuer });
    const before = await clientFor(auth).client.getToken();
    await verifier.verify(before);

    await auth.rotateSigningKey();
    // Past the verifier's JWKS cooldown (30 s), well inside its cache age (10 min).
    vi.setSystemTime(Date.now() + 31_000);
    const after = await clientFor(auth).client.getToken();
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);

    await expect(verifier.verify(after)).resolves.toMatchObject({ sub: auth.keyId });
    // The retired key stays published while its tokens live.
    await expect(verifier.verify(before)).resolves.toMatchObject({ sub: auth.keyId });
  });

  it('gives up at once when the server throttles longer than the retry budget', async () => {
    const throttled = await startTestServer({ env: { SCOPE_AUTH_THROTTLE_KEY_FAILURES: '2' } });
    try {
      const sleeps: number[] = [];
      const { client } = clientFor(throttled, { apiSecret: `secret_${'B'.repeat(46)}`, sleep: async (ms) => void sleeps.push(ms) });
      for (let i = 0; i < 2; i++) expect((await failure(client.getToken(), ScopeAuthError)).code).toBe('invalid_client');
      const err = await failure(client.getToken(), ScopeAuthError);
      expect([err.code, err.status]).toEqual(['rate_limited', 429]);
      expect(sleeps).toEqual([]);
    } finally {
      await throttled.close();
    }
  }, 60_000);
});
