import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ScopeAuthClient, ScopeAuthError } from '../../sdk/src/client.js';
import type { ScopeAuthClientOptions } from '../../sdk/src/client.js';
import { oauthError, scriptedFetch, tokenReply } from './fixtures.js';
import type { ScriptedReply } from './fixtures.js';

const SECRET = 'secret_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd1A2b3C';
const ENV = {
  SCOPE_ORG_ID: 'org_01JENVENVENVENVENVENVENVEN',
  SCOPE_API_KEY: 'key_01JENVENVENVENVENVENVENVEN',
  SCOPE_API_SECRET: SECRET,
  SCOPE_AUTH_API_URL: 'https://auth.example.test/',
};
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

/** A client on a scripted token endpoint, a manual clock and a sleep that records and advances it. */
function setup(steps: Array<ScriptedReply | Error> = [], options: ScopeAuthClientOptions = {}) {
  const clock = { now: T0 };
  const sleeps: number[] = [];
  const scripted = scriptedFetch(steps);
  const client = new ScopeAuthClient({
    env: ENV,
    fetch: scripted.fetch,
    now: () => clock.now,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.now += ms;
    },
    random: () => 0.5,
    ...options,
  });
  const exchanges = () => scripted.calls.filter((c) => c.url.endsWith('/v1/token'));
  return { client, clock, sleeps, calls: scripted.calls, exchanges };
}

async function failure(promise: Promise<unknown>): Promise<ScopeAuthError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ScopeAuthError);
  return err as ScopeAuthError;
}

function configError(make: () => unknown): ScopeAuthError {
  try {
    make();
  } catch (err) {
    expect(err).toBeInstanceOf(ScopeAuthError);
    expect((err as ScopeAuthError).code).toBe('invalid_config');
    return err as ScopeAuthError;
  }
  throw new Error('expected the constructor to throw');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('configuration', () => {
  it('reads every setting from the SCOPE_* environment variables', async () => {
    const { client, exchanges } = setup([], { env: { ...ENV, SCOPE_TOKEN_REFRESH_BUFFER: '120' } });
    expect(client.toJSON()).toEqual({
      orgId: ENV.SCOPE_ORG_ID,
      apiKey: ENV.SCOPE_API_KEY,
      authUrl: 'https://auth.example.test',
      scope: undefined,
      tokenRefreshBuffer: 120,
    });
    await client.getToken();
    expect(exchanges()[0]?.url).toBe('https://auth.example.test/v1/token');
    expect(JSON.parse(exchanges()[0]?.body ?? '')).toEqual({
      org_id: ENV.SCOPE_ORG_ID,
      key_id: ENV.SCOPE_API_KEY,
      secret: SECRET,
    });
  });

  it('prefers options over the environment', () => {
    const client = new ScopeAuthClient({
      env: ENV,
      orgId: 'org_option',
      apiKey: 'key_option',
      authUrl: 'http://localhost:8080',
      tokenRefreshBuffer: 30,
    });
    expect(client.toJSON()).toMatchObject({ orgId: 'org_option', apiKey: 'key_option', authUrl: 'http://localhost:8080', tokenRefreshBuffer: 30 });
  });

  it('defaults the refresh buffer to 60 seconds', () => {
    expect(new ScopeAuthClient({ env: ENV }).toJSON().tokenRefreshBuffer).toBe(60);
  });

  it('names both the option and the variable for each missing value', () => {
    const err = configError(() => new ScopeAuthClient({ env: {} }));
    expect(err.message).toContain('pass the `orgId` option or set SCOPE_ORG_ID');
    expect(err.message).toContain('pass the `apiKey` option or set SCOPE_API_KEY');
    expect(err.message).toContain('pass the `apiSecret` option or set SCOPE_API_SECRET');
    expect(err.message).toContain('pass the `authUrl` option or set SCOPE_AUTH_API_URL');
  });

  it('treats an empty variable as missing', () => {
    const err = configError(() => new ScopeAuthClient({ env: { ...ENV, SCOPE_API_SECRET: '' } }));
    expect(err.message).toBe('scope-auth client: apiSecret is missing: pass the `apiSecret` option or set SCOPE_API_SECRET');
  });

  it('rejects a refresh buffer that is not a non-negative number', () => {
    const err = configError(() => new ScopeAuthClient({ env: { ...ENV, SCOPE_TOKEN_REFRESH_BUFFER: 'soon' } }));
    expect(err.message).toContain('tokenRefreshBuffer (option `tokenRefreshBuffer` or SCOPE_TOKEN_REFRESH_BUFFER)');
    configError(() => new ScopeAuthClient({ env: ENV, tokenRefreshBuffer: -1 }));
  });

  it('rejects an authUrl that is not an http(s) URL', () => {
    const err = configError(() => new ScopeAuthClient({ env: { ...ENV, SCOPE_AUTH_API_URL: 'auth.example.test' } }));
    expect(err.message).toContain('SCOPE_AUTH_API_URL) must be an http(s) URL');
  });

  it('sends the requested scopes, space-separated', async () => {
    const { client, exchanges } = setup([], { scope: ['runtime:run', 'sessions:create'] });
    await client.getToken();
    expect(JSON.parse(exchanges()[0]?.body ?? '')).toMatchObject({ scope: 'runtime:run sessions:create' });
  });
});

describe('getToken()', () => {
  it('exchanges the key for a token and caches it', async () => {
    const { client, exchanges } = setup([tokenReply('tok-A')]);
    expect(await client.getToken()).toBe('tok-A');
    expect(await client.getToken()).toBe('tok-A');
    expect(exchanges()).toHaveLength(1);
    expect(exchanges()[0]?.method).toBe('POST');
    expect(exchanges()[0]?.headers.get('content-type')).toBe('application/json');
  });

  it('shares one exchange among 50 concurrent callers', async () => {
    const { client, exchanges } = setup([tokenReply('tok-A')]);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getToken()));
    expect(new Set(tokens)).toEqual(new Set(['tok-A']));
    expect(exchanges()).toHaveLength(1);
  });

  it('exchanges anew once the token is within the refresh buffer of expiry', async () => {
    const { client, clock, exchanges } = setup([tokenReply('tok-A', 900), tokenReply('tok-B', 900)]);
    expect(await client.getToken()).toBe('tok-A');
    clock.now = T0 + 839_999; // 900 s lifetime - 60 s buffer - 1 ms
    expect(await client.getToken()).toBe('tok-A');
    clock.now = T0 + 840_000;
    expect(await client.getToken()).toBe('tok-B');
    expect(exchanges()).toHaveLength(2);
  });

  it('honours SCOPE_TOKEN_REFRESH_BUFFER', async () => {
    const { client, clock, exchanges } = setup([tokenReply('tok-A', 900), tokenReply('tok-B', 900)], {
      env: { ...ENV, SCOPE_TOKEN_REFRESH_BUFFER: '300' },
    });
    await client.getToken();
    clock.now = T0 + 599_000;
    expect(await client.getToken()).toBe('tok-A');
    clock.now = T0 + 600_000;
    expect(await client.getToken()).toBe('tok-B');
    expect(exchanges()).toHaveLength(2);
  });

  it('refreshes at half-life when the buffer is as long as the token lives', async () => {
    const { client, clock } = setup([tokenReply('tok-A', 60), tokenReply('tok-B', 60)], { tokenRefreshBuffer: 60 });
    expect(await client.getToken()).toBe('tok-A');
    expect(await client.getToken()).toBe('tok-A');
    clock.now = T0 + 30_000;
    expect(await client.getToken()).toBe('tok-B');
  });

  it('times expiry from expires_in and the local clock, whatever the token itself says', async () => {
    // A JWT whose exp lies in the past by the client's clock (the server's clock is behind).
    const payload = Buffer.from(JSON.stringify({ exp: T0 / 1000 - 3600 })).toString('base64url');
    const { client, clock, exchanges } = setup([tokenReply(`e30.${payload}.sig`, 900)]);
    await client.getToken();
    clock.now = T0 + 800_000;
    await client.getToken();
    expect(exchanges()).toHaveLength(1);
  });

  it('rejects a 200 that is not a token response', async () => {
    const { client } = setup([{ status: 200, body: { token: 'x' } }]);
    const err = await failure(client.getToken());
    expect(err.code).toBe('invalid_response');
  });
});

describe('retries', () => {
  it('retries 503, 503 and 429 with exponential backoff, full jitter and Retry-After', async () => {
    const { client, sleeps, exchanges } = setup(
      [
        oauthError(503, 'temporarily_unavailable'),
        { status: 503, body: 'Service Unavailable' },
        oauthError(429, 'slow_down', 'too many requests', { 'retry-after': '2' }),
        tokenReply('tok-A'),
      ],
      { retry: { baseDelayMs: 100 } },
    );
    expect(await client.getToken()).toBe('tok-A');
    expect(exchanges()).toHaveLength(4);
    // random() = 0.5: half of 100 ms, half of 200 ms, then exactly Retry-After.
    expect(sleeps).toEqual([50, 100, 2000]);
  });

  it('reads Retry-After as an HTTP date', async () => {
    const { client, sleeps } = setup([
      { status: 503, headers: { 'retry-after': new Date(T0 + 3000).toUTCString() } },
      tokenReply('tok-A'),
    ]);
    expect(await client.getToken()).toBe('tok-A');
    expect(sleeps).toEqual([3000]);
  });

  it('retries network errors', async () => {
    const { client, sleeps } = setup([new TypeError('fetch failed'), new TypeError('fetch failed'), tokenReply('tok-A')], {
      retry: { baseDelayMs: 100 },
    });
    expect(await client.getToken()).toBe('tok-A');
    expect(sleeps).toEqual([50, 100]);
  });

  it('caps each backoff at maxDelayMs', async () => {
    const { client, sleeps } = setup(Array.from({ length: 5 }, () => ({ status: 500 })), {
      random: () => 0.999,
      retry: { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 3000 },
    });
    await client.getToken();
    expect(sleeps.map(Math.round)).toEqual([999, 1998, 2997, 2997, 2997]);
  });

  it('gives up after maxAttempts with the last status', async () => {
    const { client, exchanges } = setup(Array.from({ length: 10 }, () => oauthError(502, 'server_error', 'bad gateway')), {
      retry: { maxAttempts: 3 },
    });
    const err = await failure(client.getToken());
    expect(err.code).toBe('server_error');
    expect(err.status).toBe(502);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('after 3 attempts');
    expect(exchanges()).toHaveLength(3);
  });

  it('stops retrying when the total time budget would be exceeded', async () => {
    const { client, sleeps, exchanges } = setup(Array.from({ length: 10 }, () => ({ status: 503 })), {
      random: () => 1,
      retry: { maxAttempts: 10, baseDelayMs: 1000, maxDelayMs: 100_000, maxElapsedMs: 5000 },
    });
    const err = await failure(client.getToken());
    expect(err.code).toBe('server_error');
    expect(sleeps).toEqual([1000, 2000]); // a third wait of 4000 ms would end past 5000 ms
    expect(exchanges()).toHaveLength(3);
  });

  it('fails at once when Retry-After points beyond the time budget', async () => {
    const { client, sleeps } = setup([oauthError(429, 'slow_down', 'throttled', { 'retry-after': '3600' })]);
    const err = await failure(client.getToken());
    expect(err.code).toBe('rate_limited');
    expect(err.status).toBe(429);
    expect(sleeps).toEqual([]);
  });

  it('never retries invalid_client and surfaces it as a typed error', async () => {
    const { client, exchanges, sleeps } = setup([oauthError(401, 'invalid_client', 'Client authentication failed')]);
    const err = await failure(client.getToken());
    expect(err.code).toBe('invalid_client');
    expect(err.status).toBe(401);
    expect(err.description).toBe('Client authentication failed');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(ENV.SCOPE_API_KEY);
    expect(exchanges()).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it.each([
    [400, 'invalid_scope'],
    [400, 'invalid_request'],
  ])('never retries a %i %s', async (status, code) => {
    const { client, exchanges } = setup([oauthError(status, code)]);
    const err = await failure(client.getToken());
    expect([err.code, err.status]).toEqual([code, status]);
    expect(exchanges()).toHaveLength(1);
  });

  it('reports a non-OAuth 404 as a likely wrong authUrl without retrying', async () => {
    const { client, exchanges } = setup([{ status: 404, body: '<html>Not Found</html>' }]);
    const err = await failure(client.getToken());
    expect(err.code).toBe('unexpected_status');
    expect(err.message).toContain('SCOPE_AUTH_API_URL');
    expect(exchanges()).toHaveLength(1);
  });

  it('keeps serving a still-valid token when a refresh fails transiently', async () => {
    const { client, clock } = setup([tokenReply('tok-A', 900), ...Array.from({ length: 5 }, () => ({ status: 503 }))]);
    await client.getToken();
    clock.now = T0 + 850_000; // inside the buffer, 50 s before expiry
    expect(await client.getToken()).toBe('tok-A');
  });

  it('does not hide a revoked key behind the cached token', async () => {
    const { client, clock } = setup([tokenReply('tok-A', 900), oauthError(401, 'invalid_client')]);
    await client.getToken();
    clock.now = T0 + 850_000;
    expect((await failure(client.getToken())).code).toBe('invalid_client');
  });

  it('lets the next call try again after a failed exchange', async () => {
    const { client } = setup([oauthError(400, 'invalid_request'), tokenReply('tok-A')]);
    await failure(client.getToken());
    expect(await client.getToken()).toBe('tok-A');
  });
});

describe('client.fetch()', () => {
  const API = 'https://api.example.test/v1/runs';

  /** Token endpoint answers tok-1, tok-2, …; the resource answers from `resource`. */
  function withResource(resource: (token: string | null, n: number) => ScriptedReply) {
    let exchangeCount = 0;
    let resourceCount = 0;
    const seen: Array<{ authorization: string | null; body: string | undefined; contentType: string | null }> = [];
    const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith('/v1/token')) {
        exchangeCount += 1;
        return Response.json(tokenReply(`tok-${exchangeCount}`).body);
      }
      resourceCount += 1;
      const headers = new Headers(init?.headers);
      seen.push({
        authorization: headers.get('authorization'),
        body: typeof init?.body === 'string' ? init.body : undefined,
        contentType: headers.get('content-type'),
      });
      const reply = resource(headers.get('authorization'), resourceCount);
      return new Response(JSON.stringify(reply.body ?? {}), { status: reply.status ?? 200 });
    };
    const client = new ScopeAuthClient({ env: ENV, fetch, sleep: async () => undefined });
    return { client, seen, exchanges: () => exchangeCount };
  }

  it('adds the bearer token and keeps the caller’s headers and body', async () => {
    const { client, seen } = withResource(() => ({ status: 201 }));
    const res = await client.fetch(API, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(seen).toEqual([{ authorization: 'Bearer tok-1', body: '{"a":1}', contentType: 'application/json' }]);
  });

  it('on a 401 refreshes the token once and retries the request once', async () => {
    const { client, seen, exchanges } = withResource((auth) => (auth === 'Bearer tok-1' ? { status: 401 } : { status: 200, body: { ok: true } }));
    const res = await client.fetch(API, { method: 'POST', body: 'payload' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(seen.map((s) => [s.authorization, s.body])).toEqual([
      ['Bearer tok-1', 'payload'],
      ['Bearer tok-2', 'payload'],
    ]);
    expect(exchanges()).toBe(2);
    // The refreshed token is cached for later calls.
    expect(await client.getToken()).toBe('tok-2');
  });

  it('returns the second 401 instead of looping', async () => {
    const { client, seen, exchanges } = withResource(() => ({ status: 401 }));
    const res = await client.fetch(API);
    expect(res.status).toBe(401);
    expect(seen).toHaveLength(2);
    expect(exchanges()).toBe(2);
  });

  it('shares one refresh among concurrent requests rejected with the same token', async () => {
    const { client, seen, exchanges } = withResource((auth) => ({ status: auth === 'Bearer tok-1' ? 401 : 200 }));
    const results = await Promise.all(Array.from({ length: 10 }, () => client.fetch(API)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(exchanges()).toBe(2);
    expect(seen).toHaveLength(20);
  });

  it('does not retry other statuses', async () => {
    const { client, seen } = withResource(() => ({ status: 403 }));
    expect((await client.fetch(API)).status).toBe(403);
    expect(seen).toHaveLength(1);
  });

  it('sends a Request object twice with its body intact', async () => {
    const bodies: string[] = [];
    let exchanges = 0;
    const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      if (String(input instanceof Request ? input.url : input).endsWith('/v1/token')) {
        exchanges += 1;
        return Response.json(tokenReply(`tok-${exchanges}`).body);
      }
      const req = new Request(input, init);
      bodies.push(`${req.headers.get('authorization')} ${await req.text()}`);
      return new Response(null, { status: bodies.length === 1 ? 401 : 204 });
    };
    const client = new ScopeAuthClient({ env: ENV, fetch });
    const res = await client.fetch(new Request(API, { method: 'POST', body: 'hello' }));
    expect(res.status).toBe(204);
    expect(bodies).toEqual(['Bearer tok-1 hello', 'Bearer tok-2 hello']);
  });
});

describe('background refresh', () => {
  it('refreshes when the buffer is reached without a caller waiting, and stops on close()', async () => {
    vi.useFakeTimers({ now: T0 });
    const scripted = scriptedFetch([]);
    const client = new ScopeAuthClient({ env: ENV, fetch: scripted.fetch, backgroundRefresh: true });
    expect(await client.getToken()).toBe('token-1');

    await vi.advanceTimersByTimeAsync(840_000);
    expect(scripted.calls).toHaveLength(2);
    expect(await client.getToken()).toBe('token-2');
    expect(scripted.calls).toHaveLength(2);

    client.close();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(scripted.calls).toHaveLength(2);
    // Still usable on demand after close().
    expect(await client.getToken()).toBe('token-3');
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(scripted.calls).toHaveLength(3);
  });

  it('tries again later after a transient background failure', async () => {
    vi.useFakeTimers({ now: T0 });
    const scripted = scriptedFetch([tokenReply('tok-A'), new TypeError('fetch failed')]);
    const client = new ScopeAuthClient({ env: ENV, fetch: scripted.fetch, backgroundRefresh: true, retry: { maxAttempts: 1 } });
    await client.getToken();
    await vi.advanceTimersByTimeAsync(840_000);
    expect(scripted.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(scripted.calls).toHaveLength(3);
    expect(await client.getToken()).toBe('token-3');
    client.close();
  });
});

describe('secret hygiene', () => {
  function expectNoSecret(...texts: string[]) {
    for (const text of texts) expect(text).not.toContain(SECRET);
  }

  it('keeps the secret out of JSON, inspect, toString and own keys', async () => {
    const { client } = setup([tokenReply('tok-A')], { backgroundRefresh: true });
    await client.getToken();
    expectNoSecret(
      JSON.stringify(client),
      JSON.stringify({ client }),
      inspect(client, { showHidden: true, depth: Infinity }),
      String(client),
      `${client}`,
      JSON.stringify(Object.getOwnPropertyNames(client).map((k) => (client as unknown as Record<string, unknown>)[k])),
    );
    expect(inspect(client)).toContain(ENV.SCOPE_API_KEY);
    // The cached bearer token is a credential too.
    expect(inspect(client, { showHidden: true, depth: Infinity })).not.toContain('tok-A');
    client.close();
  });

  it('keeps the secret out of errors, even when the server or the network echoes it', async () => {
    const echoed = setup([oauthError(401, 'invalid_client', `bad secret ${SECRET}`)]);
    const networkEcho = setup(
      [new TypeError(`socket hang up while sending ${JSON.stringify({ secret: SECRET })}`)],
      { retry: { maxAttempts: 1 } },
    );
    const server = setup([{ status: 500, body: { error: 'server_error', error_description: SECRET } }], { retry: { maxAttempts: 1 } });
    for (const { client } of [echoed, networkEcho, server]) {
      const err = await failure(client.getToken());
      expectNoSecret(err.message, String(err.description), err.stack ?? '', JSON.stringify(err), inspect(err, { depth: Infinity }));
      expect(err.message).toMatch(/\[redacted\]/);
    }
  });

  it('keeps the secret out of configuration errors', () => {
    const err = configError(() => new ScopeAuthClient({ env: { ...ENV, SCOPE_AUTH_API_URL: 'nope', SCOPE_TOKEN_REFRESH_BUFFER: 'x' } }));
    expectNoSecret(err.message, inspect(err));
  });
});
