// The verifier's onError hook: a downstream service learns of each refusal require() answers
// (to log or count it) with the error and the request, and nothing it does changes the answer.
import express from 'express';
import type { ErrorRequestHandler, Request } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, TokenVerificationError } from '../../sdk/src/verifier.js';
import type { VerifierOptions } from '../../sdk/src/verifier.js';
import { AUDIENCE, newSigningKey, sign, standardClaims, startJwksServer } from './fixtures.js';
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

interface Told {
  err: TokenVerificationError;
  req: Request;
}

/** An app guarding GET /runs/:id with require('runtime:run'), and what its hook was told. */
function appTelling(options: Partial<VerifierOptions> = {}, issuer = server.issuer) {
  const told: Told[] = [];
  const auth = createVerifier({ issuer, audience: AUDIENCE, realm: 'runs', onError: (err, req) => void told.push({ err, req }), ...options });
  const app = express();
  app.get('/runs/:id', auth.require('runtime:run'), (_req, res) => {
    res.json({ ok: true });
  });
  const onError: ErrorRequestHandler = (err: TokenVerificationError, _req, res, _next) => {
    res.status(err.status).json({ reached: 'error handler', code: err.code });
  };
  app.use(onError);
  return { app, told };
}

const tokenWith = (claims: Record<string, unknown> = {}) => sign(key, { ...standardClaims(server.issuer), ...claims });

describe('the onError option of createVerifier', () => {
  it('is told of a request without a token, with the request, before the 401', async () => {
    const { app, told } = appTelling();
    const res = await request(app).get('/runs/7').set('X-Request-Id', 'req-1').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="runs"');
    expect(told).toHaveLength(1);
    expect(told[0]!.err).toBeInstanceOf(TokenVerificationError);
    expect(told[0]!.err).toMatchObject({ code: 'token_missing', status: 401 });
    expect(told[0]!.req.params).toEqual({ id: '7' });
    expect(told[0]!.req.get('x-request-id')).toBe('req-1');
  });

  it('is told of a malformed Authorization header and of each failed verification, with its code', async () => {
    const { app, told } = appTelling();
    await request(app).get('/runs/1').set('Authorization', 'Bearer not a token').expect(401);
    const now = Math.floor(Date.now() / 1000);
    await request(app).get('/runs/2').set('Authorization', `Bearer ${await tokenWith({ iat: now - 3600, exp: now - 1800 })}`).expect(401);
    await request(app).get('/runs/3').set('Authorization', `Bearer ${await tokenWith({ aud: 'https://elsewhere.test' })}`).expect(401);
    expect(told.map(({ err, req }) => [err.code, err.status, err.claim, req.params['id']])).toEqual([
      ['token_malformed', 401, undefined, '1'],
      ['token_expired', 401, 'exp', '2'],
      ['claim_invalid', 401, 'aud', '3'],
    ]);
  });

  it('is told of a missing scope as insufficient_scope, 403, naming the scope', async () => {
    const { app, told } = appTelling();
    const res = await request(app).get('/runs/9').set('Authorization', `Bearer ${await tokenWith({ scope: 'sessions:create' })}`).expect(403);
    expect(res.body).toEqual({ error: 'insufficient_scope', error_description: 'The access token lacks the scope runtime:run' });
    expect(told.map(({ err }) => err)).toEqual([expect.objectContaining({ code: 'insufficient_scope', status: 403, claim: 'scope', message: 'The access token lacks the scope runtime:run' })]);
  });

  it('is told of a JWKS outage, which still reaches the error handler as a 503', async () => {
    const down = await startJwksServer([key]);
    await down.close();
    const { app, told } = appTelling({ timeoutDuration: 2000 }, down.issuer);
    const token = await sign(key, standardClaims(down.issuer));
    const res = await request(app).get('/runs/4').set('Authorization', `Bearer ${token}`).expect(503);
    expect(res.body).toEqual({ reached: 'error handler', code: 'jwks_unavailable' });
    expect(told.map(({ err }) => [err.code, err.status])).toEqual([['jwks_unavailable', 503]]);
  });

  it('is told nothing of an accepted request, nor by verify(), which throws instead', async () => {
    const { app, told } = appTelling();
    await request(app).get('/runs/5').set('Authorization', `Bearer ${await tokenWith()}`).expect(200);
    const verifier = createVerifier({ issuer: server.issuer, audience: AUDIENCE, onError: (err, req) => void told.push({ err, req }) });
    await expect(verifier.verify('junk')).rejects.toMatchObject({ code: 'token_malformed' });
    expect(told).toEqual([]);
  });

  it('cannot change the answer: a hook that throws or rejects gets the same answers as none', async () => {
    const expired = await tokenWith({ exp: Math.floor(Date.now() / 1000) - 600 });
    const narrow = await tokenWith({ scope: 'sessions:create' });
    const answers = async (options: Partial<VerifierOptions>) => {
      const { app } = appTelling(options);
      const seen = [];
      for (const authorization of [undefined, `Bearer ${expired}`, `Bearer ${narrow}`, `Bearer ${await tokenWith()}`]) {
        const req = request(app).get('/runs/6');
        const res = await (authorization === undefined ? req : req.set('Authorization', authorization));
        seen.push({ status: res.status, challenge: res.headers['www-authenticate'], body: res.body as unknown });
      }
      return seen;
    };
    const plain = await answers({ onError: undefined });
    expect(plain.map((a) => a.status)).toEqual([401, 401, 403, 200]);
    const throwing = await answers({
      onError: () => {
        throw new Error('the hook broke');
      },
    });
    const rejecting = await answers({ onError: (() => Promise.reject(new Error('the async hook broke'))) as unknown as VerifierOptions['onError'] });
    expect(throwing).toEqual(plain);
    expect(rejecting).toEqual(plain);
  });

  it('refuses an onError that is not a function when the verifier is created', () => {
    expect(() => createVerifier({ issuer: server.issuer, audience: AUDIENCE, onError: 'log' as unknown as VerifierOptions['onError'] })).toThrow(
      'createVerifier(): `onError` must be a function (err, req) => void',
    );
  });
});
