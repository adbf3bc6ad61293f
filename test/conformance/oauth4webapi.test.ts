// Conformance through an independent, strict OAuth 2.0 client library (oauth4webapi) against
// a real server: RFC 8414 discovery, RFC 6749 §4.4 client credentials with both client
// authentication methods, RFC 9068 validation of the issued token at a resource server, and
// RFC 7662 introspection, before and after the key is revoked.
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedClient } from '../helpers/rows.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const insecure = { [oauth.allowInsecureRequests]: true } as const;

let server: TestServer;
let as: oauth.AuthorizationServer;

/** A fresh app with `scopes` and a key on it in the root org, written through the server's own store. */
async function createClient(scopes: string[]): Promise<{ client: oauth.Client; secret: string; appId: string }> {
  const { app, key, secret } = await seedClient(server.server.deps, server.orgId, scopes, { app: { name: 'conformance' }, keyName: 'conformance' });
  return { client: { client_id: key.id }, secret, appId: app.id };
}

async function clientCredentials(client: oauth.Client, auth: oauth.ClientAuth, scope?: string) {
  const response = await oauth.clientCredentialsGrantRequest(as, client, auth, scope === undefined ? {} : { scope }, insecure);
  return oauth.processClientCredentialsResponse(as, client, response);
}

/** RFC 7662 §2.1 lets the caller authenticate with a bearer token; oauth4webapi takes it as a custom ClientAuth. */
const bearer =
  (token: string): oauth.ClientAuth =>
  (_as, _client, _body, headers) => {
    headers.set('authorization', `Bearer ${token}`);
  };

async function introspect(callerToken: string, token: string) {
  const caller: oauth.Client = { client_id: 'resource-server' };
  const response = await oauth.introspectionRequest(as, caller, bearer(callerToken), token, insecure);
  return oauth.processIntrospectionResponse(as, caller, response);
}

beforeAll(async () => {
  server = await startTestServer();
  const issuer = new URL(server.issuer);
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
  as = await oauth.processDiscoveryResponse(issuer, response);
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('oauth4webapi against a real scope-auth server', () => {
  it('discovers the server from its issuer URL (RFC 8414)', () => {
    expect(as.issuer).toBe(server.issuer);
    expect(as.token_endpoint).toBe(`${server.issuer}/oauth2/token`);
    expect(as.jwks_uri).toBe(`${server.issuer}/.well-known/jwks.json`);
    expect(as.introspection_endpoint).toBe(`${server.issuer}/oauth2/introspect`);
    expect(as.grant_types_supported).toEqual(['client_credentials']);
    expect(as.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post']);
  });

  it.each([
    ['client_secret_basic', oauth.ClientSecretBasic],
    ['client_secret_post', oauth.ClientSecretPost],
  ])('obtains a token with %s that validates as an RFC 9068 access token', async (_method, method) => {
    const { client, secret, appId } = await createClient(['agents:edit', 'runtime:run']);
    const result = await clientCredentials(client, method(secret));
    expect(result).toMatchObject({ token_type: 'bearer', expires_in: 900, scope: 'agents:edit agents:view runtime:run sessions:create' });
    expect(result.refresh_token).toBeUndefined();

    const request = new Request('https://api.example.com/agents', { headers: { authorization: `Bearer ${result.access_token}` } });
    const claims = await oauth.validateJwtAccessToken(as, request, server.issuer, insecure);
    expect(claims).toMatchObject({
      iss: server.issuer,
      aud: server.issuer,
      sub: client.client_id,
      client_id: client.client_id,
      scope: result.scope,
      org_id: server.orgId,
      app_id: appId,
    });
  });

  it('requests a narrower scope', async () => {
    const { client, secret } = await createClient(['agents:full', 'tools:deploy']);
    const result = await clientCredentials(client, oauth.ClientSecretBasic(secret), 'agents:view');
    expect(result.scope).toBe('agents:view');
  });

  it('surfaces a wrong secret over Basic as a Basic challenge with status 401', async () => {
    const { client } = await createClient(['tools:deploy']);
    const { secret: wrong } = await createClient(['tools:deploy']);
    const error = await clientCredentials(client, oauth.ClientSecretBasic(wrong)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    const challenge = error as oauth.WWWAuthenticateChallengeError;
    expect(challenge.status).toBe(401);
    expect(challenge.cause[0]).toMatchObject({ scheme: 'basic', parameters: { realm: 'scope-auth' } });
  });

  it('surfaces a wrong secret in the body as an invalid_client error response', async () => {
    const { client } = await createClient(['tools:deploy']);
    const { secret: wrong } = await createClient(['tools:deploy']);
    const error = await clientCredentials(client, oauth.ClientSecretPost(wrong)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('surfaces a scope beyond the grant as invalid_scope', async () => {
    const { client, secret } = await createClient(['agents:view']);
    const error = await clientCredentials(client, oauth.ClientSecretPost(secret), 'agents:full').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect(error).toMatchObject({ status: 400, error: 'invalid_scope' });
  });

  it('introspects a token as active, then inactive once its key is revoked (RFC 7662)', async () => {
    const introspector = await createClient(['tokens:introspect']);
    const callerToken = (await clientCredentials(introspector.client, oauth.ClientSecretBasic(introspector.secret))).access_token;
    const { client, secret, appId } = await createClient(['tools:deploy']);
    const token = (await clientCredentials(client, oauth.ClientSecretBasic(secret))).access_token;

    expect(await introspect(callerToken, token)).toMatchObject({
      active: true,
      client_id: client.client_id,
      sub: client.client_id,
      scope: 'tools:deploy',
      token_type: 'Bearer',
      iss: server.issuer,
      aud: server.issuer,
      org_id: server.orgId,
      app_id: appId,
    });

    // Revoked through the admin API, as an org admin would (the bootstrap key holds admin.apps:edit).
    const admin = (await clientCredentials({ client_id: server.keyId }, oauth.ClientSecretPost(server.secret), 'admin.apps:edit')).access_token;
    const revoked = await fetch(`${server.url}/v1/keys/${client.client_id}/revoke`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'conformance test' }),
    });
    expect(revoked.status).toBe(200);
    expect(await introspect(callerToken, token)).toEqual({ active: false });
  });
});
