// The baselines, each a bare process of its own (started by run.ts, never by the server):
//
//   argon2      raw argon2.verify throughput of the seeded PHC string (so the same
//               parameters) with N verifications in flight; prints one JSON result and exits.
//   sign        express + express.json() on POST /token signing the same claims as the
//               server (ES256, kid, typ at+jwt, random jti) with jose, answering the same JSON.
//   sign-node   the same route signing with node:crypto, as the server does (informational).
//   constant    express GET returning a precomputed JSON body (the server's JWKS bytes).
//   jose-verify express GET /resource: Bearer token → jose.jwtVerify with a local public key
//               (issuer, audience, typ, algorithm) and a scope check.
//   sdk-verify  express GET /resource behind scope-auth/verifier's require(scope), whose keys
//               come from the server's JWKS URL.
// The servers listen on 127.0.0.1 on a free port, print `{"port":…}` and run until killed.
import { KeyObject, randomUUID, sign as nodeSign } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import argon2 from 'argon2';
import express from 'express';
import { SignJWT, exportJWK, generateKeyPair, calculateJwkThumbprint, importJWK, jwtVerify, type JWK } from 'jose';
import { createVerifier } from '../../sdk/src/verifier.js';

export interface BareConfig {
  /** argon2 */
  readonly secretHash?: string;
  readonly secret?: string;
  readonly concurrency?: number;
  readonly durationSeconds?: number;
  /** sign, jose-verify, sdk-verify */
  readonly issuer?: string;
  readonly audience?: string;
  readonly scope?: string;
  /** constant */
  readonly body?: string;
  /** jose-verify: the public key that signs the tokens; sdk-verify: where to fetch it */
  readonly jwk?: JWK;
  readonly jwksUrl?: string;
  readonly requiredScope?: string;
}

async function argon2Throughput(config: BareConfig) {
  const hash = config.secretHash!;
  const secret = config.secret!;
  const concurrency = config.concurrency ?? 4;
  if (!(await argon2.verify(hash, secret))) throw new Error('the baseline secret does not match its hash');
  // Warm up as the server is before its measured cold exchanges: every thread has run argon2.
  await Promise.all(Array.from({ length: concurrency * 2 }, () => argon2.verify(hash, secret)));
  const until = performance.now() + (config.durationSeconds ?? 5) * 1000;
  let verifications = 0;
  const started = performance.now();
  const usageStart = process.resourceUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await argon2.verify(hash, secret);
        verifications++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const usage = process.resourceUsage();
  const per = (value: number) => value / verifications;
  return {
    verifications,
    seconds,
    rps: verifications / seconds,
    cpuMsPerRequest: per((usage.userCPUTime + usage.systemCPUTime - usageStart.userCPUTime - usageStart.systemCPUTime) / 1000),
    systemMsPerRequest: per((usage.systemCPUTime - usageStart.systemCPUTime) / 1000),
    minorFaultsPerRequest: per(usage.minorPageFault - usageStart.minorPageFault),
  };
}

async function signApp(config: BareConfig, signer: 'jose' | 'node'): Promise<express.Express> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  const keyObject = KeyObject.from(privateKey);
  const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid, typ: 'at+jwt' })).toString('base64url');
  const app = express();
  app.post('/token', express.json({ limit: '64kb' }), async (req, res) => {
    const body = req.body as { key_id?: string; org_id?: string };
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      iss: config.issuer,
      sub: body.key_id,
      client_id: body.key_id,
      aud: config.audience,
      iat,
      exp: iat + 900,
      jti: randomUUID(),
      scope: config.scope,
      org_id: body.org_id,
      app_id: 'app_01JBENCHBENCHBENCHBENCHBENC',
    };
    let token: string;
    if (signer === 'jose') {
      token = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(privateKey);
    } else {
      const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      token = `${input}.${nodeSign('sha256', Buffer.from(input), { key: keyObject, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    }
    res.json({ access_token: token, token_type: 'Bearer', expires_in: 900, scope: config.scope });
  });
  return app;
}

function constantApp(config: BareConfig): express.Express {
  const body = config.body!;
  const app = express();
  app.get('/.well-known/jwks.json', (_req, res) => {
    res.type('application/json').send(body);
  });
  return app;
}

async function joseVerifyApp(config: BareConfig): Promise<express.Express> {
  const key = await importJWK(config.jwk!, config.jwk!.alg ?? 'ES256');
  const required = config.requiredScope!;
  const app = express();
  app.get('/resource', async (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token) {
      res.status(401).end();
      return;
    }
    try {
      const { payload } = await jwtVerify(token, key, { issuer: config.issuer!, audience: config.audience!, typ: 'at+jwt', algorithms: ['ES256'] });
      if (!String(payload.scope).split(' ').includes(required)) {
        res.status(403).end();
        return;
      }
      res.json({ ok: true, org_id: payload.org_id });
    } catch {
      res.status(401).end();
    }
  });
  return app;
}

function sdkVerifyApp(config: BareConfig): express.Express {
  const verifier = createVerifier({ issuer: config.issuer!, audience: config.audience!, jwksUrl: config.jwksUrl! });
  const app = express();
  app.get('/resource', verifier.require(config.requiredScope!), (req, res) => {
    res.json({ ok: true, org_id: req.auth?.org_id });
  });
  return app;
}

const [kind, json] = process.argv.slice(2);
const config = JSON.parse(json ?? '{}') as BareConfig;
if (kind === 'argon2') {
  process.stdout.write(`${JSON.stringify(await argon2Throughput(config))}\n`);
} else {
  const build: Record<string, () => Promise<express.Express> | express.Express> = {
    sign: () => signApp(config, 'jose'),
    'sign-node': () => signApp(config, 'node'),
    constant: () => constantApp(config),
    'jose-verify': () => joseVerifyApp(config),
    'sdk-verify': () => sdkVerifyApp(config),
  };
  const make = kind === undefined ? undefined : build[kind];
  if (!make) throw new Error(`unknown baseline ${kind}`);
  const app = await make();
  app.disable('x-powered-by');
  const server = app.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
