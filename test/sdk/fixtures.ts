/**
 * Test doubles for the SDK: a tiny JWKS server and token signing with jose, and a scripted
 * fetch standing in for the token endpoint.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { CryptoKey, JWK, JWTHeaderParameters, JWTPayload } from 'jose';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The public JWK as a JWKS publishes it. */
  jwk: JWK;
}

export async function newSigningKey(alg: 'ES256' | 'EdDSA' | 'RS256' | 'PS256' = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported);
  return { kid, alg, privateKey, publicKey, jwk: { ...exported, kid, alg, use: 'sig' } };
}

export interface JwksServer {
  /** Base URL, used as the issuer. */
  issuer: string;
  jwksUrl: string;
  /** Publishes a key (kept in publication order). */
  publish(key: SigningKey): void;
  /** How many times the JWKS was fetched. */
  fetches(): number;
  close(): Promise<void>;
}

/** Serves `GET /.well-known/jwks.json` with the published keys, counting requests. */
export async function startJwksServer(keys: SigningKey[] = []): Promise<JwksServer> {
  const published: JWK[] = keys.map((k) => k.jwk);
  let fetches = 0;
  const server = createServer((req, res) => {
    fetches += 1;
    if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: published }));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"not_found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    publish: (key) => {
      published.push(key.jwk);
    },
    fetches: () => fetches,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export const AUDIENCE = 'https://api.example.test';

/** Claims as the scope-auth server issues them, valid for 15 minutes from now. */
export function standardClaims(issuer: string, nowSeconds = Math.floor(Date.now() / 1000)): JWTPayload {
  return {
    iss: issuer,
    sub: 'key_01JAAAAAAAAAAAAAAAAAAAAAAA',
    client_id: 'key_01JAAAAAAAAAAAAAAAAAAAAAAA',
    aud: AUDIENCE,
    iat: nowSeconds,
    exp: nowSeconds + 900,
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    scope: 'agents:edit agents:view runtime:run sessions:create',
    org_id: 'org_01JAAAAAAAAAAAAAAAAAAAAAAA',
    app_id: 'app_01JAAAAAAAAAAAAAAAAAAAAAAA',
  };
}

/** Signs `claims` with `key`; the header is `{ alg, kid, typ: 'at+jwt' }` merged with `header`. */
export function sign(key: SigningKey, claims: JWTPayload, header: Partial<JWTHeaderParameters> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header }).sign(key.privateKey);
}

/** Base64url of a JSON value, for hand-made tokens. */
export function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export interface ScriptedReply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RecordedCall {
  url: string;
  method: string;
  headers: Headers;
  body: string | undefined;
}

/**
 * A fetch that answers from a script: each call consumes the next step (a reply or an
 * error to throw); when the script runs out it answers with `fallback(n)`.
 */
export function scriptedFetch(
  steps: Array<ScriptedReply | Error>,
  fallback: (n: number) => ScriptedReply = (n) => tokenReply(`token-${n}`),
): { fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    calls.push({
      url,
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : undefined,
    });
    const step = steps.shift() ?? fallback(calls.length);
    if (step instanceof Error) throw step;
    return new Response(step.body === undefined ? null : typeof step.body === 'string' ? step.body : JSON.stringify(step.body), {
      status: step.status ?? 200,
      headers: { 'content-type': 'application/json', ...step.headers },
    });
  };
  return { fetch, calls };
}

export function tokenReply(accessToken: string, expiresIn = 900, scope = 'runtime:run'): ScriptedReply {
  return { status: 200, body: { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, scope } };
}

export function oauthError(status: number, error: string, description = `${error} happened`, headers?: Record<string, string>): ScriptedReply {
  return { status, body: { error, error_description: description }, ...(headers ? { headers } : {}) };
}
