import { randomBytes } from 'node:crypto';
import express from 'express';
import type { ErrorRequestHandler } from 'express';
import { exportSPKI, SignJWT } from 'jose';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createVerifier, TokenVerificationError } from '../../sdk/src/verifier.js';
import type { TokenVerificationErrorCode, Verifier } from '../../sdk/src/verifier.js';
import { AUDIENCE, b64json, newSigningKey, sign, standardClaims, startJwksServer } from './fixtures.js';
import type { JwksServer, SigningKey } from './fixtures.js';

let server: JwksServer;
let key: SigningKey;

beforeAll(async () => {
  key = await newSigningKey('ES256');
  server = await startJwksServer([key]);
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  vi.useRealTimers();
});

function verifierFor(jwks: JwksServer = server, extra: Partial<Parameters<typeof createVerifier>[0]> = {}): Verifier {
  return createVerifier({ issuer: jwks.issuer, audience: AUDIENCE, ...extra });
}

async function rejection(promise: Promise<unknown>): Promise<TokenVerificationError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenVerificationError);
  return err as TokenVerificationError;
}

async function expectCode(promise: Promise<unknown>, code: TokenVerificationErrorCode): Promise<TokenVerificationError> {
  const err = await rejection(promise);
  expect(err.code).toBe(code);
  return err;
}

describe('verify()', () => {
  it('accepts a token signed by a key in the JWKS and returns its claims', async () => {
    const claims = standardClaims(server.issuer);
    const verified = await verifierFor().verify(await sign(key, claims));
    expect(verified).toMatchObject({
      iss: server.issuer,
      sub: claims['sub'],
      client_id: claims['client_id'],
      aud: AUDIENCE,
      jti: claims['jti'],
      scope: 'agents:edit agents:view runtime:run sessions:create',
      org_id: 'org_01JAAAAAAAAAAAAAAAAAAAAAAA',
      app_id: 'app_01JAAAAAAAAAAAAAAAAAAAAAAA',
    });
    expect(verified.exp).toBe(claims['exp']);
  });

  it('accepts EdDSA, RS256 and PS256 signatures by default', async () => {
    const keys = await Promise.all([newSigningKey('EdDSA'), newSigningKey('RS256'), newSigningKey('PS256')]);
    const jwks = await startJwksServer(keys);
    try {
      const verifier = verifierFor(jwks);
      for (const k of keys) {
        await expect(verifier.verify(await sign(k, standardClaims(jwks.issuer)))).resolves.toMatchObject({ iss: jwks.issuer });
      }
    } finally {
      await jwks.close();
    }
  });

  it('accepts a token whose aud is an array containing the audience', async () => {
    const token = await sign(key, { ...standardClaims(server.issuer), aud: ['https://other.test', AUDIENCE] });
    await expect(verifierFor().verify(token)).resolves.toMatchObject({ aud: ['https://other.test', AUDIENCE] });
  });

  it('returns an empty scope string when the token grants no scope', async () => {
    const { scope: _omitted, ...claims } = standardClaims(server.issuer);
    await expect(verifierFor().verify(await sign(key, claims))).resolves.toMatchObject({ scope: '' });
  });

  it('rejects an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign(key, { ...standardClaims(server.issuer, now - 1000), exp: now - 60 });
    const err = await expectCode(verifierFor().verify(token), 'token_expired');
    expect(err.status).toBe(401);
    expect(err.message).toBe('The access token expired');
  });

  it('tolerates a few seconds of clock skew on exp, but no more than configured', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign(key, { ...standardClaims(server.issuer, now - 900), exp: now - 3 });
    await expect(verifierFor().verify(token)).resolves.toMatchObject({ exp: now - 3 });
    await expectCode(verifierFor(server, { clockTolerance: 0 }).verify(token), 'token_expired');
  });

  it('judges expiry by the injected clock', async () => {
    const claims = standardClaims(server.issuer);
    const token = await sign(key, claims);
    const later = ((claims['exp'] as number) + 60) * 1000;
    await expectCode(verifierFor(server, { now: () => later }).verify(token), 'token_expired');
  });

  it('rejects a token that is not valid yet (nbf or iat in the future)', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectCode(verifierFor().verify(await sign(key, { ...standardClaims(server.issuer), nbf: now + 120 })), 'token_not_yet_valid');
    await expectCode(verifierFor().verify(await sign(key, standardClaims(server.issuer, now + 120))), 'token_not_yet_valid');
  });

  it('rejects a token from another issuer', async () => {
    const token = await sign(key, standardClaims('https://evil.example.test'));
    const err = await expectCode(verifierFor().verify(token), 'claim_invalid');
    expect(err.claim).toBe('iss');
  });

  it('compares the issuer exactly (a trailing slash is a different issuer)', async () => {
    const token = await sign(key, standardClaims(`${server.issuer}/`));
    await expectCode(verifierFor().verify(token), 'claim_invalid');
  });

  it('rejects a token for another audience', async () => {
    const token = await sign(key, { ...standardClaims(server.issuer), aud: 'https://other-api.test' });
    const err = await expectCode(verifierFor().verify(token), 'claim_invalid');
    expect(err.claim).toBe('aud');
  });

  it.each(['exp', 'sub', 'client_id', 'jti', 'org_id', 'app_id'])('rejects a token without %s', async (claim) => {
    const claims = standardClaims(server.issuer);
    delete claims[claim];
    const err = await expectCode(verifierFor().verify(await sign(key, claims)), 'claim_invalid');
    expect(err.claim).toBe(claim);
  });

  it('rejects a token whose scope claim is not a string', async () => {
    const token = await sign(key, { ...standardClaims(server.issuer), scope: ['runtime:run'] });
    await expectCode(verifierFor().verify(token), 'claim_invalid');
  });

  it('rejects a token whose payload was tampered with', async () => {
    const [header, , signature] = (await sign(key, standardClaims(server.issuer))).split('.');
    const forged = b64json({ ...standardClaims(server.issuer), scope: 'admin.orgs:full' });
    await expectCode(verifierFor().verify(`${header}.${forged}.${signature}`), 'signature_invalid');
  });

  it('rejects an unsigned token (alg none)', async () => {
    const token = `${b64json({ alg: 'none', typ: 'at+jwt', kid: key.kid })}.${b64json(standardClaims(server.issuer))}.`;
    await expectCode(verifierFor().verify(token), 'algorithm_not_allowed');
  });

  it('rejects an HS256 token keyed with the public key bytes (algorithm confusion)', async () => {
    const publicPem = await exportSPKI(key.publicKey);
    for (const secret of [publicPem, JSON.stringify(key.jwk)]) {
      const token = await new SignJWT(standardClaims(server.issuer))
        .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' })
        .sign(new TextEncoder().encode(secret));
      await expectCode(verifierFor().verify(token), 'algorithm_not_allowed');
    }
  });

  it('rejects a token signed by a key that is not in the JWKS', async () => {
    const stranger = await newSigningKey('ES256');
    await expectCode(verifierFor().verify(await sign(stranger, standardClaims(server.issuer))), 'key_not_found');
  });

  it('rejects a token signed by a stranger that reuses a published kid', async () => {
    const stranger = await newSigningKey('ES256');
    const token = await sign(stranger, standardClaims(server.issuer), { kid: key.kid });
    await expectCode(verifierFor().verify(token), 'signature_invalid');
  });

  it('ignores jku and embedded jwk headers and trusts only the issuer JWKS', async () => {
    const attacker = await newSigningKey('ES256');
    const attackerJwks = await startJwksServer([attacker]);
    try {
      const token = await sign(attacker, standardClaims(server.issuer), {
        jku: attackerJwks.jwksUrl,
        x5u: `${attackerJwks.issuer}/cert.pem`,
        jwk: attacker.jwk,
      });
      await expectCode(verifierFor().verify(token), 'key_not_found');
      expect(attackerJwks.fetches()).toBe(0);
    } finally {
      await attackerJwks.close();
    }
  });

  it('rejects a token without typ, or with a typ other than at+jwt', async () => {
    const claims = standardClaims(server.issuer);
    const untyped = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: key.kid }).sign(key.privateKey);
    await expectCode(verifierFor().verify(untyped), 'typ_invalid');
    await expectCode(verifierFor().verify(await sign(key, claims, { typ: 'JWT' })), 'typ_invalid');
    await expect(verifierFor().verify(await sign(key, claims, { typ: 'application/at+jwt' }))).resolves.toBeDefined();
  });

  it('rejects an oversized token before parsing it or fetching keys', async () => {
    const jwks = await startJwksServer([key]);
    try {
      const padded = await sign(key, { ...standardClaims(jwks.issuer), pad: 'x'.repeat(9000) });
      await expectCode(verifierFor(jwks).verify(padded), 'token_too_large');
      await expectCode(verifierFor(jwks).verify('x'.repeat(100_000)), 'token_too_large');
      expect(jwks.fetches()).toBe(0);
    } finally {
      await jwks.close();
    }
  });

  it.each([
    ['an empty string', ''],
    ['a non-JWT string', 'not-a-token'],
    ['a token with a non-JSON header', 'e30K.e30.sig'],
  ])('rejects %s as malformed', async (_label, token) => {
    await expectCode(verifierFor().verify(token), 'token_malformed');
  });

  it('accepts a token only in its canonical spelling: no = padding, no whitespace inside its parts', async () => {
    const jwks = await startJwksServer([key]);
    try {
      const token = await sign(key, standardClaims(jwks.issuer));
      await verifierFor(jwks).verify(token);
      const [header, payload, signature] = token.split('.') as [string, string, string];
      for (const other of [`${header}.${payload}.${signature}==`, `${header}.${payload}.${signature.slice(0, 8)} ${signature.slice(8)}`, `${header}.${payload}.${signature}\n`]) {
        await expectCode(verifierFor(jwks).verify(other), 'token_malformed');
      }
    } finally {
      await jwks.close();
    }
  });

  it('reports jwks_unavailable (status 503) when the JWKS cannot be fetched', async () => {
    const down = await startJwksServer([key]);
    await down.close();
    const verifier = verifierFor(down, { timeoutDuration: 2000 });
    const err = await expectCode(verifier.verify(await sign(key, standardClaims(down.issuer))), 'jwks_unavailable');
    expect(err.status).toBe(503);
  });

  it('verifies a token signed with a newly published key without being recreated (rotation)', async () => {
    const jwks = await startJwksServer([key]);
    try {
      vi.useFakeTimers({ toFake: ['Date'] });
      const verifier = verifierFor(jwks);
      await verifier.verify(await sign(key, standardClaims(jwks.issuer)));
      expect(jwks.fetches()).toBe(1);

      const next = await newSigningKey('ES256');
      jwks.publish(next);
      // Past the 30 s cooldown, well inside the 10 min cache age: only the unknown kid makes it refetch.
      vi.setSystemTime(Date.now() + 31_000);
      const token = await sign(next, standardClaims(jwks.issuer));
      await expect(verifier.verify(token)).resolves.toMatchObject({ iss: jwks.issuer });
      expect(jwks.fetches()).toBe(2);
      // The old key keeps working from the refreshed set.
      await expect(verifier.verify(await sign(key, standardClaims(jwks.issuer)))).resolves.toBeDefined();
      expect(jwks.fetches()).toBe(2);
    } finally {
      await jwks.close();
    }
  });

  it('fetches the JWKS at most once per cooldown however many unknown kids arrive', async () => {
    const jwks = await startJwksServer([key]);
    try {
      vi.useFakeTimers({ toFake: ['Date'] });
      const verifier = verifierFor(jwks);
      await verifier.verify(await sign(key, standardClaims(jwks.issuer)));
      expect(jwks.fetches()).toBe(1);

      const strangers = await Promise.all(Array.from({ length: 5 }, () => newSigningKey('ES256')));
      const floodToken = (i: number) =>
        sign(strangers[i % strangers.length] as SigningKey, standardClaims(jwks.issuer), { kid: randomBytes(16).toString('base64url') });

      // Inside the cooldown: no refetch at all.
      const first = await Promise.all(Array.from({ length: 100 }, async (_, i) => rejection(verifier.verify(await floodToken(i)))));
      expect(first.every((e) => e.code === 'key_not_found')).toBe(true);
      expect(jwks.fetches()).toBe(1);

      // After the cooldown: a concurrent flood shares a single refetch, then the cooldown holds again.
      vi.setSystemTime(Date.now() + 31_000);
      await Promise.all(Array.from({ length: 100 }, async (_, i) => rejection(verifier.verify(await floodToken(i)))));
      for (let i = 0; i < 50; i++) await rejection(verifier.verify(await floodToken(i)));
      expect(jwks.fetches()).toBe(2);
    } finally {
      await jwks.close();
    }
  });

  it('honours a narrower algorithm allow-list', async () => {
    const rsa = await newSigningKey('RS256');
    const jwks = await startJwksServer([key, rsa]);
    try {
      const verifier = verifierFor(jwks, { algorithms: ['ES256'] });
      await expect(verifier.verify(await sign(key, standardClaims(jwks.issuer)))).resolves.toBeDefined();
      await expectCode(verifier.verify(await sign(rsa, standardClaims(jwks.issuer))), 'algorithm_not_allowed');
    } finally {
      await jwks.close();
    }
  });
});

describe('createVerifier()', () => {
  it.each([['HS256'], ['hs512'], ['none']])('refuses %s in the algorithm allow-list', (alg) => {
    expect(() => createVerifier({ issuer: server.issuer, audience: AUDIENCE, algorithms: ['ES256', alg] })).toThrow(
      /is not allowed/,
    );
  });

  it('explains a missing issuer or audience', () => {
    expect(() => createVerifier({ issuer: '', audience: AUDIENCE })).toThrow(/`issuer` is required/);
    expect(() => createVerifier({ issuer: server.issuer, audience: [] })).toThrow(/`audience` is required/);
  });

  it('fetches keys from jwksUrl when given', async () => {
    const elsewhere = await startJwksServer([key]);
    try {
      const verifier = createVerifier({ issuer: 'https://issuer.example.test', audience: AUDIENCE, jwksUrl: elsewhere.jwksUrl });
      await expect(verifier.verify(await sign(key, standardClaims('https://issuer.example.test')))).resolves.toBeDefined();
      expect(elsewhere.fetches()).toBe(1);
    } finally {
      await elsewhere.close();
    }
  });
});

describe('require() middleware', () => {
  const REALM = 'downstream';

  function appWith(verifier: Verifier, ...scopes: string[]) {
    const app = express();
    app.get('/resource', verifier.require(...scopes), (req, res) => {
      res.json({ auth: req.auth });
    });
    const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
      res.status(err instanceof TokenVerificationError ? err.status : 500).json({ code: err instanceof TokenVerificationError ? err.code : 'bug' });
    };
    app.use(onError);
    return app;
  }

  const guarded = () => appWith(verifierFor(server, { realm: REALM }), 'runtime:run', 'sessions:create');

  it('answers 401 with a bare Bearer challenge when no token is sent', async () => {
    const res = await request(guarded()).get('/resource');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="downstream"');
    expect(res.body).toEqual({ error: 'unauthorized', error_description: 'A bearer token is required' });
  });

  it('answers 401 with a bare challenge to another authentication scheme', async () => {
    const res = await request(guarded()).get('/resource').set('Authorization', 'Basic a2V5OnNlY3JldA==');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="downstream"');
  });

  it('answers 401 invalid_token to a malformed Bearer header', async () => {
    const res = await request(guarded()).get('/resource').set('Authorization', 'Bearer two tokens');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="downstream", error="invalid_token", error_description="The Authorization header is not a valid Bearer token"',
    );
  });

  it('answers 401 invalid_token naming the problem when the token is expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign(key, { ...standardClaims(server.issuer, now - 2000), exp: now - 1000 });
    const res = await request(guarded()).get('/resource').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="downstream", error="invalid_token", error_description="The access token expired"',
    );
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'The access token expired' });
  });

  it('answers 401 invalid_token to a forged token', async () => {
    const stranger = await newSigningKey('ES256');
    const res = await request(guarded())
      .get('/resource')
      .set('Authorization', `Bearer ${await sign(stranger, standardClaims(server.issuer))}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="downstream", error="invalid_token", error_description="The access token is signed with an unknown key"',
    );
  });

  it('answers 403 insufficient_scope naming the required scopes when one is missing', async () => {
    const token = await sign(key, { ...standardClaims(server.issuer), scope: 'agents:view runtime:run' });
    const res = await request(guarded()).get('/resource').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="downstream", error="insufficient_scope", error_description="The access token lacks the scope sessions:create", scope="runtime:run sessions:create"',
    );
    expect(res.body).toEqual({ error: 'insufficient_scope', error_description: 'The access token lacks the scope sessions:create' });
  });

  it('matches scopes by membership, not by substring', async () => {
    const token = await sign(key, { ...standardClaims(server.issuer), scope: 'runtime:runner sessions:create-all' });
    const res = await request(guarded()).get('/resource').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
  });

  it('lets the request through with req.auth set to the claims when every scope is granted', async () => {
    const claims = standardClaims(server.issuer);
    const res = await request(guarded()).get('/resource').set('Authorization', `bearer ${await sign(key, claims)}`);
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ sub: claims['sub'], org_id: claims['org_id'], scope: claims['scope'] });
  });

  it('only authenticates when no scope is required', async () => {
    const app = appWith(verifierFor(server, { realm: REALM }));
    const token = await sign(key, { ...standardClaims(server.issuer), scope: '' });
    expect((await request(app).get('/resource').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect((await request(app).get('/resource')).status).toBe(401);
  });

  it('uses the audience as the default realm', async () => {
    const res = await request(appWith(verifierFor())).get('/resource');
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${AUDIENCE}"`);
  });

  it('hands an unreachable JWKS to the error handler as a 503, not a 401', async () => {
    const down = await startJwksServer([key]);
    await down.close();
    const res = await request(appWith(verifierFor(down)))
      .get('/resource')
      .set('Authorization', `Bearer ${await sign(key, standardClaims(down.issuer))}`);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ code: 'jwks_unavailable' });
  });

  it('verifies the token once however many of its guards one request passes', async () => {
    let verifications = 0;
    const verifier = verifierFor(server, { now: () => (verifications++, Date.now()) });
    const app = express();
    app.get('/resource', verifier.require('runtime:run'), verifier.require('sessions:create'), (req, res) => {
      res.json({ auth: req.auth });
    });
    const res = await request(app).get('/resource').set('Authorization', `Bearer ${await sign(key, standardClaims(server.issuer))}`);
    expect(res.status).toBe(200);
    expect(verifications).toBe(1);
  });

  it('still applies a later guard of the same verifier to the scopes it names', async () => {
    const verifier = verifierFor(server, { realm: REALM });
    const app = express();
    app.get('/resource', verifier.require('runtime:run'), verifier.require('agents:full'), (_req, res) => {
      res.json({ ok: true });
    });
    const res = await request(app).get('/resource').set('Authorization', `Bearer ${await sign(key, standardClaims(server.issuer))}`);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toContain('scope="agents:full"');
  });

  it('never takes req.auth set by other code, or by a verifier of another issuer, as verified', async () => {
    const elsewhere = await startJwksServer([key]);
    try {
      const verifier = verifierFor(server, { realm: REALM });
      const other = verifierFor(elsewhere);
      const forged = express();
      forged.get(
        '/resource',
        (req, _res, next) => {
          req.auth = { ...standardClaims(server.issuer), scope: 'runtime:run sessions:create' } as unknown as NonNullable<typeof req.auth>;
          next();
        },
        verifier.require('runtime:run'),
        (_req, res) => {
          res.json({ ok: true });
        },
      );
      expect((await request(forged).get('/resource')).status).toBe(401);

      const chained = express();
      chained.get('/resource', other.require(), verifier.require('runtime:run'), (_req, res) => {
        res.json({ ok: true });
      });
      // Valid for the other issuer: its guard lets it through, ours must still refuse it.
      const res = await request(chained).get('/resource').set('Authorization', `Bearer ${await sign(key, standardClaims(elsewhere.issuer))}`);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    } finally {
      await elsewhere.close();
    }
  });

  it('refuses to build a guard for a scope name that cannot appear in a token', () => {
    expect(() => verifierFor().require('runtime:run sessions:create')).toThrow(/not a valid scope name/);
    expect(() => verifierFor().require('say "hi"')).toThrow(/not a valid scope name/);
  });
});
