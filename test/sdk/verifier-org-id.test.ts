// The verifier's `orgId` pin: a service that serves one tenant (or the tenant named by the
// request) refuses tokens of every other org, as it refuses a token for another audience.
import express from 'express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, TokenVerificationError } from '../../sdk/src/verifier.js';
import type { VerifierOptions } from '../../sdk/src/verifier.js';
import { AUDIENCE, newSigningKey, sign, standardClaims, startJwksServer } from './fixtures.js';
import type { JwksServer, SigningKey } from './fixtures.js';

const ACME = 'org_01JACMEAAAAAAAAAAAAAAAAAAA';
const GLOBEX = 'org_01JGLOBEXAAAAAAAAAAAAAAAAA';
const INITECH = 'org_01JINITECHAAAAAAAAAAAAAAA';
const REALM = 'downstream';
const REFUSED = `Bearer realm="${REALM}", error="invalid_token", error_description="The access token's org_id is not accepted by this service"`;

let server: JwksServer;
let key: SigningKey;

beforeAll(async () => {
  key = await newSigningKey('ES256');
  server = await startJwksServer([key]);
});
afterAll(async () => {
  await server.close();
});

const verifierWith = (orgId?: VerifierOptions['orgId']) =>
  createVerifier({ issuer: server.issuer, audience: AUDIENCE, realm: REALM, ...(orgId === undefined ? {} : { orgId }) });
const tokenOf = (orgId: string, scope = 'runtime:run') => sign(key, { ...standardClaims(server.issuer), org_id: orgId, scope });

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => 'accepted',
    (err: unknown) => err,
  );
}

async function expectOrgRefused(promise: Promise<unknown>): Promise<void> {
  const err = await refusal(promise);
  expect(err).toBeInstanceOf(TokenVerificationError);
  expect(err).toMatchObject({ code: 'claim_invalid', claim: 'org_id', status: 401, message: "The access token's org_id is not accepted by this service" });
}

/** An app answering `{ org }` on `path` behind `guard`, with an error handler that names what reached it. */
function appWith(guard: RequestHandler, path = '/resource') {
  const app = express();
  app.get(path, guard, (req, res) => {
    res.json({ org: req.auth?.org_id });
  });
  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    res.status(500).json({ reached: 'error handler', message: err instanceof Error ? err.message : String(err) });
  };
  app.use(onError);
  return app;
}

describe('verify() with orgId', () => {
  it('accepts a token of the pinned org and refuses a token of any other org as claim_invalid on org_id', async () => {
    const verifier = verifierWith(ACME);
    await expect(verifier.verify(await tokenOf(ACME))).resolves.toMatchObject({ org_id: ACME });
    await expectOrgRefused(verifier.verify(await tokenOf(GLOBEX)));
  });

  it('accepts a token of any org in a pinned list, and only those', async () => {
    const verifier = verifierWith([ACME, GLOBEX]);
    await expect(verifier.verify(await tokenOf(ACME))).resolves.toMatchObject({ org_id: ACME });
    await expect(verifier.verify(await tokenOf(GLOBEX))).resolves.toMatchObject({ org_id: GLOBEX });
    await expectOrgRefused(verifier.verify(await tokenOf(INITECH)));
    await expectOrgRefused(verifierWith([ACME]).verify(await tokenOf(GLOBEX)));
  });

  it('accepts tokens of every org when no orgId is set', async () => {
    const verifier = verifierWith();
    await expect(verifier.verify(await tokenOf(ACME))).resolves.toMatchObject({ org_id: ACME });
    await expect(verifier.verify(await tokenOf(GLOBEX))).resolves.toMatchObject({ org_id: GLOBEX });
  });

  it('pins the org for one call with verify(token, { orgId }), in place of the verifier\'s own', async () => {
    await expectOrgRefused(verifierWith().verify(await tokenOf(GLOBEX), { orgId: ACME }));
    await expect(verifierWith(ACME).verify(await tokenOf(GLOBEX), { orgId: [GLOBEX, INITECH] })).resolves.toMatchObject({ org_id: GLOBEX });
    await expectOrgRefused(verifierWith(ACME).verify(await tokenOf(ACME), { orgId: GLOBEX }));
  });

  it('throws a TypeError when orgId is a function of the request and the call pins no org', async () => {
    const verifier = verifierWith((req) => req.params['orgId']);
    const err = await refusal(verifier.verify(await tokenOf(ACME)));
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(/pass verify\(token, \{ orgId \}\) or use require\(\)/);
    await expect(verifier.verify(await tokenOf(ACME), { orgId: ACME })).resolves.toMatchObject({ org_id: ACME });
    await expectOrgRefused(verifier.verify(await tokenOf(GLOBEX), { orgId: ACME }));
  });

  it.each([
    ['an empty string', ''],
    ['an empty list', []],
    ['a list with a non-string', [ACME, 7]],
  ])('throws a TypeError for a per-call orgId that is %s', async (_label, orgId) => {
    const err = await refusal(verifierWith().verify(await tokenOf(ACME), { orgId: orgId as string[] }));
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toMatch(/^verify\(\): `orgId` must be/);
  });
});

describe('createVerifier() with orgId', () => {
  it.each([
    ['an empty string', ''],
    ['an empty list', []],
    ['a list with an empty string', [ACME, '']],
    ['a list with a non-string', [ACME, 42]],
    ['a number', 42],
    ['null', null],
    ['a Set', new Set([ACME])],
  ])('refuses an orgId that is %s', (_label, orgId) => {
    expect(() => verifierWith(orgId as string)).toThrow(TypeError);
    expect(() => verifierWith(orgId as string)).toThrow(
      /^createVerifier\(\): `orgId` must be a non-empty string, a non-empty array of non-empty strings, or a function of the request$/,
    );
  });

  it('keeps its own copy of a pinned list', async () => {
    const orgs = [ACME];
    const verifier = verifierWith(orgs);
    orgs.push(GLOBEX);
    await expectOrgRefused(verifier.verify(await tokenOf(GLOBEX)));
  });
});

describe('require() with orgId', () => {
  it('lets a token of the pinned org through and answers 401 invalid_token to another org\'s', async () => {
    const app = appWith(verifierWith(ACME).require('runtime:run'));
    const own = await request(app).get('/resource').set('Authorization', `Bearer ${await tokenOf(ACME)}`);
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ org: ACME });

    const other = await request(app).get('/resource').set('Authorization', `Bearer ${await tokenOf(GLOBEX)}`);
    expect(other.status).toBe(401);
    expect(other.headers['www-authenticate']).toBe(REFUSED);
    expect(other.body).toEqual({ error: 'invalid_token', error_description: "The access token's org_id is not accepted by this service" });
  });

  it('answers a token of another org with 401, not 403, even when it also lacks the scope', async () => {
    const app = appWith(verifierWith([ACME, GLOBEX]).require('agents:full'));
    const res = await request(app).get('/resource').set('Authorization', `Bearer ${await tokenOf(INITECH)}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(REFUSED);
  });

  it('accepts tokens of every org when no orgId is set', async () => {
    const app = appWith(verifierWith().require('runtime:run'));
    for (const org of [ACME, GLOBEX]) {
      const res = await request(app).get('/resource').set('Authorization', `Bearer ${await tokenOf(org)}`);
      expect(res.body).toEqual({ org });
    }
  });

  it('pins the org named in the route by a function of the request', async () => {
    const verifier = verifierWith((req) => req.params['orgId']);
    const app = appWith(verifier.require('runtime:run'), '/orgs/:orgId/resource');
    const token = await tokenOf(ACME);
    expect((await request(app).get(`/orgs/${ACME}/resource`).set('Authorization', `Bearer ${token}`)).body).toEqual({ org: ACME });
    const across = await request(app).get(`/orgs/${GLOBEX}/resource`).set('Authorization', `Bearer ${token}`);
    expect(across.status).toBe(401);
    expect(across.headers['www-authenticate']).toBe(REFUSED);
  });

  it('pins the org of the host name, and refuses every token on a host that has none', async () => {
    const tenants = new Map([
      ['acme.api.test', ACME],
      ['globex.api.test', GLOBEX],
    ]);
    const app = appWith(verifierWith((req) => tenants.get(req.hostname)).require());
    const token = await tokenOf(ACME);
    expect((await request(app).get('/resource').set('Host', 'acme.api.test').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect((await request(app).get('/resource').set('Host', 'globex.api.test').set('Authorization', `Bearer ${token}`)).status).toBe(401);
    const unknown = await request(app).get('/resource').set('Host', 'unknown.api.test').set('Authorization', `Bearer ${token}`);
    expect(unknown.status).toBe(401);
    expect(unknown.headers['www-authenticate']).toBe(REFUSED);
  });

  it('accepts any org of a list the function returns', async () => {
    const app = appWith(verifierWith(() => [GLOBEX, ACME]).require());
    expect((await request(app).get('/resource').set('Authorization', `Bearer ${await tokenOf(ACME)}`)).status).toBe(200);
    expect((await request(app).get('/resource').set('Authorization', `Bearer ${await tokenOf(INITECH)}`)).status).toBe(401);
  });

  it('refuses every token when the function returns something that is not an org id or a list', async () => {
    const lookup = async () => ACME; // a Promise: the function must answer synchronously
    const app = appWith(verifierWith(lookup as unknown as () => string).require());
    expect((await request(app).get('/resource').set('Authorization', `Bearer ${await tokenOf(ACME)}`)).status).toBe(401);
  });

  it('hands an error thrown by the function to the app\'s error handler', async () => {
    const app = appWith(
      verifierWith(() => {
        throw new Error('tenant directory unavailable');
      }).require(),
    );
    const res = await request(app).get('/resource').set('Authorization', `Bearer ${await tokenOf(ACME)}`);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ reached: 'error handler', message: 'tenant directory unavailable' });
  });

  it('checks the org again at a later guard that sees other route parameters', async () => {
    const verifier = verifierWith((req) => req.params['orgId']);
    const inner = express.Router();
    inner.get('/projects/:orgId', verifier.require('runtime:run'), (req, res) => {
      res.json({ org: req.params['orgId'] });
    });
    const app = express();
    app.use('/orgs/:orgId', verifier.require(), inner);
    const token = await tokenOf(ACME);
    expect((await request(app).get(`/orgs/${ACME}/projects/${ACME}`).set('Authorization', `Bearer ${token}`)).body).toEqual({ org: ACME });
    const smuggled = await request(app).get(`/orgs/${ACME}/projects/${GLOBEX}`).set('Authorization', `Bearer ${token}`);
    expect(smuggled.status).toBe(401);
    expect(smuggled.headers['www-authenticate']).toBe(REFUSED);
  });
});
