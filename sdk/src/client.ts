/**
 * `@scope-auth/sdk/client` (also `scope-auth/client`): exchanges an API key for short-lived
 * access tokens and keeps one fresh. Depends on nothing but the platform's `fetch`.
 */
import { ScopeAuthError } from './errors.js';

export { ScopeAuthError } from './errors.js';
export type { ScopeAuthErrorCode } from './errors.js';

/** The subset of `fetch` the client uses; the global `fetch` satisfies it. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** How the client retries transient failures of the token endpoint. */
export interface RetryOptions {
  /** Attempts in total, the first one included. Default 5. */
  maxAttempts?: number;
  /** Upper bound of the first backoff; doubles per attempt (full jitter). Default 200 ms. */
  baseDelayMs?: number;
  /** Upper bound of any single backoff (a `Retry-After` may exceed it). Default 5000 ms. */
  maxDelayMs?: number;
  /** No retry starts once this much time has passed since the first attempt. Default 30000 ms. */
  maxElapsedMs?: number;
}

/** Options of {@link ScopeAuthClient}; each of the first five falls back to an environment variable. */
export interface ScopeAuthClientOptions {
  /** Organization id `org_…`. Fallback `SCOPE_ORG_ID`. */
  orgId?: string;
  /** API key id `key_…`. Fallback `SCOPE_API_KEY`. */
  apiKey?: string;
  /** API key secret `secret_…`. Fallback `SCOPE_API_SECRET`. Never logged or serialized. */
  apiSecret?: string;
  /** Base URL of the scope-auth server, e.g. `https://auth.example.com`. Fallback `SCOPE_AUTH_API_URL`. */
  authUrl?: string;
  /** Refresh this many seconds before expiry. Fallback `SCOPE_TOKEN_REFRESH_BUFFER`, default 60. */
  tokenRefreshBuffer?: number;
  /** Scopes to request (a subset of the app's); default: every scope the app grants. */
  scope?: string | readonly string[];
  /** `fetch` used for the exchange and by `client.fetch()`. Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Where the `SCOPE_*` fallbacks are read from. Default: `process.env` when it exists. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /** How the client waits between retries. Default: a `setTimeout` promise. */
  sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Retry policy of the token exchange. */
  retry?: RetryOptions;
  /** Abort a single exchange attempt after this long (it then counts as a network error). Default 10000 ms. */
  requestTimeoutMs?: number;
  /**
   * Refresh in the background when the buffer is reached, so `getToken()` on a hot path
   * never waits for the network. The timer is `unref`'d; `close()` stops it. Default false.
   */
  backgroundRefresh?: boolean;
}

interface CachedToken {
  readonly value: string;
  readonly scope: string;
  /** Local epoch ms after which `getToken()` exchanges anew. */
  readonly refreshAt: number;
  /** Local epoch ms at which the token expires. */
  readonly expiresAt: number;
}

interface Settings {
  readonly orgId: string;
  readonly apiKey: string;
  readonly authUrl: string;
  readonly tokenEndpoint: string;
  readonly tokenRefreshBuffer: number;
  readonly scope: string | undefined;
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxElapsedMs: number;
  readonly requestTimeoutMs: number;
  readonly backgroundRefresh: boolean;
}

const DEFAULTS = {
  tokenRefreshBuffer: 60,
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxElapsedMs: 30_000,
  requestTimeoutMs: 10_000,
  /** A stale token is still handed out when a refresh fails transiently, if it lives this much longer. */
  staleGraceMs: 5_000,
  /** After a failed background refresh, try again this much later. */
  backgroundRetryMs: 10_000,
} as const;

const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/**
 * Exchanges an org id, key id and secret for short-lived access tokens at `POST /v1/token`
 * and caches them until `tokenRefreshBuffer` seconds before they expire.
 *
 * @example
 * ```ts
 * import { ScopeAuthClient } from 'scope-auth/client'
 *
 * // reads SCOPE_ORG_ID, SCOPE_API_KEY, SCOPE_API_SECRET, SCOPE_AUTH_API_URL
 * const auth = new ScopeAuthClient()
 * const res = await auth.fetch('https://api.example.com/runs', { method: 'POST' })
 * ```
 */
export class ScopeAuthClient {
  readonly #settings: Settings;
  readonly #secret: string;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  #token: CachedToken | undefined;
  #inFlight: Promise<CachedToken> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * Reads every option, falling back to the `SCOPE_*` environment variables, and throws a
   * `ScopeAuthError` with code `invalid_config` naming each missing or malformed value.
   *
   * @example
   * ```ts
   * const auth = new ScopeAuthClient({ scope: 'runtime:run', tokenRefreshBuffer: 120 })
   * ```
   */
  constructor(options: ScopeAuthClientOptions = {}) {
    const env = options.env ?? readProcessEnv();
    const problems: string[] = [];
    const pick = (option: keyof ScopeAuthClientOptions, variable: string, given: string | undefined): string => {
      const value = given ?? nonEmpty(env[variable]);
      if (value === undefined || value === '') {
        problems.push(`${option} is missing: pass the \`${option}\` option or set ${variable}`);
        return '';
      }
      return value;
    };
    const orgId = pick('orgId', 'SCOPE_ORG_ID', options.orgId);
    const apiKey = pick('apiKey', 'SCOPE_API_KEY', options.apiKey);
    const secret = pick('apiSecret', 'SCOPE_API_SECRET', options.apiSecret);
    const rawUrl = pick('authUrl', 'SCOPE_AUTH_API_URL', options.authUrl);

    let authUrl = '';
    if (rawUrl !== '') {
      authUrl = rawUrl.replace(/\/+$/, '');
      if (!isHttpUrl(authUrl)) {
        problems.push(`authUrl (option \`authUrl\` or SCOPE_AUTH_API_URL) must be an http(s) URL, got ${JSON.stringify(rawUrl)}`);
      }
    }

    let tokenRefreshBuffer: number = DEFAULTS.tokenRefreshBuffer;
    const rawBuffer = options.tokenRefreshBuffer ?? nonEmpty(env['SCOPE_TOKEN_REFRESH_BUFFER']);
    if (rawBuffer !== undefined) {
      const parsed = typeof rawBuffer === 'number' ? rawBuffer : Number(rawBuffer);
      if (!Number.isFinite(parsed) || parsed < 0) {
        problems.push(
          `tokenRefreshBuffer (option \`tokenRefreshBuffer\` or SCOPE_TOKEN_REFRESH_BUFFER) must be a non-negative number of seconds, got ${JSON.stringify(String(rawBuffer))}`,
        );
      } else {
        tokenRefreshBuffer = parsed;
      }
    }

    const retry = options.retry ?? {};
    const positive = (name: string, value: number | undefined, fallback: number, min: number): number => {
      if (value === undefined) return fallback;
      if (!Number.isFinite(value) || value < min) problems.push(`${name} must be a number >= ${min}, got ${String(value)}`);
      return value;
    };
    const maxAttempts = positive('retry.maxAttempts', retry.maxAttempts, DEFAULTS.maxAttempts, 1);
    const baseDelayMs = positive('retry.baseDelayMs', retry.baseDelayMs, DEFAULTS.baseDelayMs, 0);
    const maxDelayMs = positive('retry.maxDelayMs', retry.maxDelayMs, DEFAULTS.maxDelayMs, 0);
    const maxElapsedMs = positive('retry.maxElapsedMs', retry.maxElapsedMs, DEFAULTS.maxElapsedMs, 0);
    const requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs, DEFAULTS.requestTimeoutMs, 1);

    if (problems.length > 0) {
      throw new ScopeAuthError(`scope-auth client: ${problems.join('; ')}`, { code: 'invalid_config' });
    }

    const scope = typeof options.scope === 'string' ? options.scope.trim() : options.scope?.join(' ');
    this.#settings = Object.freeze({
      orgId,
      apiKey,
      authUrl,
      tokenEndpoint: `${authUrl}/v1/token`,
      tokenRefreshBuffer,
      scope: scope === '' ? undefined : scope,
      maxAttempts: Math.floor(maxAttempts),
      baseDelayMs,
      maxDelayMs,
      maxElapsedMs,
      requestTimeoutMs,
      backgroundRefresh: options.backgroundRefresh ?? false,
    });
    this.#secret = secret;
    const customFetch = options.fetch;
    // Resolved per call so a global fetch installed (or mocked) later is honoured.
    this.#fetch = customFetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
  }

  /**
   * Returns a valid access token, exchanging the API key for a new one when there is none
   * yet or the cached one is within `tokenRefreshBuffer` seconds of expiry. Concurrent
   * callers share one exchange. If a refresh fails transiently while the cached token still
   * has a few seconds to live, that token is returned instead of an error.
   *
   * @throws {ScopeAuthError} `invalid_client`, `invalid_scope`, … (never retried) or
   *   `server_error`, `rate_limited`, `network_error` once the retry budget is spent.
   * @example
   * ```ts
   * const token = await auth.getToken()
   * await fetch(url, { headers: { authorization: `Bearer ${token}` } })
   * ```
   */
  async getToken(): Promise<string> {
    const cached = this.#token;
    if (cached !== undefined && this.#now() < cached.refreshAt) return cached.value;
    try {
      return (await this.#refresh()).value;
    } catch (err) {
      const current = this.#token;
      if (
        err instanceof ScopeAuthError &&
        err.retryable &&
        current !== undefined &&
        this.#now() < current.expiresAt - DEFAULTS.staleGraceMs
      ) {
        return current.value;
      }
      throw err;
    }
  }

  /**
   * `fetch` with `Authorization: Bearer <token>` added. When the resource server answers
   * 401, the client exchanges a new token once and retries the request once with it
   * (unless the body is a one-shot stream, which cannot be sent twice).
   *
   * @example
   * ```ts
   * const res = await auth.fetch('https://api.example.com/v1/runs', {
   *   method: 'POST',
   *   headers: { 'content-type': 'application/json' },
   *   body: JSON.stringify({ agent: 'a1' }),
   * })
   * ```
   */
  async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const isRequest = typeof Request !== 'undefined' && input instanceof Request;
    const send = (target: string | URL | Request, token: string): Promise<Response> => {
      const headers = new Headers(init?.headers ?? (isRequest ? (target as Request).headers : undefined));
      headers.set('authorization', `Bearer ${token}`);
      return this.#fetch(target, { ...init, headers });
    };
    const token = await this.getToken();
    const first = await send(isRequest ? (input as Request).clone() : input, token);
    if (first.status !== 401) return first;
    const replayable = !(typeof ReadableStream !== 'undefined' && init?.body instanceof ReadableStream);
    if (!replayable) return first;
    await first.body?.cancel().catch(() => undefined);
    const fresh = await this.#forceRefresh(token);
    return send(input, fresh);
  }

  /**
   * Stops background refresh. The client stays usable: `getToken()` still exchanges on demand.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => auth.close())
   * ```
   */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Alias of {@link ScopeAuthClient.close}. */
  stop(): void {
    this.close();
  }

  /** The client's public settings; the secret and the cached token are left out. */
  toJSON(): { orgId: string; apiKey: string; authUrl: string; scope: string | undefined; tokenRefreshBuffer: number } {
    const { orgId, apiKey, authUrl, scope, tokenRefreshBuffer } = this.#settings;
    return { orgId, apiKey, authUrl, scope, tokenRefreshBuffer };
  }

  toString(): string {
    return `ScopeAuthClient(${this.#settings.apiKey} @ ${this.#settings.authUrl})`;
  }

  [inspectSymbol](_depth: number, options: unknown, inspect?: (value: unknown, options: unknown) => string): string {
    const body = inspect ? inspect(this.toJSON(), options) : JSON.stringify(this.toJSON());
    return `ScopeAuthClient ${body}`;
  }

  /** Joins the exchange in flight, or starts one. */
  #refresh(): Promise<CachedToken> {
    if (this.#inFlight === undefined) {
      const exchange = this.#exchange().then((token) => {
        this.#token = token;
        this.#schedule(token.refreshAt - this.#now());
        return token;
      });
      this.#inFlight = exchange;
      const clear = (): void => {
        if (this.#inFlight === exchange) this.#inFlight = undefined;
      };
      exchange.then(clear, clear);
    }
    return this.#inFlight;
  }

  /** After a 401 with `staleToken`: a newer token if someone already got one, else a new exchange. */
  async #forceRefresh(staleToken: string): Promise<string> {
    const current = this.#token;
    if (current !== undefined && current.value !== staleToken && this.#now() < current.refreshAt) {
      return current.value;
    }
    return (await this.#refresh()).value;
  }

  #schedule(delayMs: number): void {
    if (!this.#settings.backgroundRefresh || this.#closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    // setTimeout overflows above 2^31-1 ms and would fire at once.
    const delay = Math.min(Math.max(0, delayMs), 2_147_483_647);
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.#refresh().catch((err: unknown) => {
        if (err instanceof ScopeAuthError && err.retryable) this.#schedule(DEFAULTS.backgroundRetryMs);
      });
    }, delay);
    // A pending refresh must not keep a short-lived process alive.
    if (typeof timer === 'object' && typeof timer.unref === 'function') timer.unref();
    this.#timer = timer;
  }

  async #exchange(): Promise<CachedToken> {
    const s = this.#settings;
    const body = JSON.stringify({
      org_id: s.orgId,
      key_id: s.apiKey,
      secret: this.#secret,
      ...(s.scope === undefined ? {} : { scope: s.scope }),
    });
    const firstAttemptAt = this.#now();
    for (let attempt = 1; ; attempt++) {
      const sentAt = this.#now();
      const outcome = await this.#attempt(body, attempt);
      if ('token' in outcome) {
        const { accessToken, expiresIn, scope } = outcome.token;
        // The server's exp is iat + expires_in with iat >= sentAt, so timing from our own
        // send time is never late, whatever the skew between the two clocks.
        const expiresAt = sentAt + expiresIn * 1000;
        // A buffer as long as the token's life would refresh on every call; cap it at half.
        const buffer = Math.min(s.tokenRefreshBuffer * 1000, (expiresIn * 1000) / 2);
        return { value: accessToken, scope, expiresAt, refreshAt: expiresAt - buffer };
      }
      const { error, retryAfterMs } = outcome;
      if (!error.retryable || attempt >= s.maxAttempts) throw error;
      const backoff = this.#random() * Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** (attempt - 1));
      const delay = retryAfterMs ?? backoff;
      if (this.#now() - firstAttemptAt + delay > s.maxElapsedMs) throw error;
      await this.#sleep(delay);
    }
  }

  async #attempt(
    body: string,
    attempt: number,
  ): Promise<
    | { token: { accessToken: string; expiresIn: number; scope: string } }
    | { error: ScopeAuthError; retryAfterMs?: number | undefined }
  > {
    const s = this.#settings;
    const tries = `${attempt} attempt${attempt === 1 ? '' : 's'}`;
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(s.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(s.requestTimeoutMs),
      });
      text = await response.text();
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      return {
        error: new ScopeAuthError(
          `scope-auth client: could not reach ${s.tokenEndpoint} after ${tries}: ${this.#redact(reason)}`,
          { code: 'network_error', retryable: true, cause: this.#safeCause(cause) },
        ),
      };
    }

    const status = response.status;
    const json = parseJson(text);
    if (response.ok) {
      const token = readTokenResponse(json);
      if (token === undefined) {
        return {
          error: new ScopeAuthError(
            `scope-auth client: ${s.tokenEndpoint} answered ${status} without a usable token response`,
            { code: 'invalid_response', status },
          ),
        };
      }
      return { token };
    }

    const oauth = readOAuthError(json);
    const description = oauth?.description === undefined ? undefined : this.#redact(oauth.description.slice(0, 300));
    const detail = description === undefined ? '' : `: ${description}`;
    if (status === 429 || status >= 500) {
      const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers.get('retry-after'), this.#now()) : undefined;
      const code = status === 429 ? 'rate_limited' : 'server_error';
      return {
        retryAfterMs,
        error: new ScopeAuthError(
          `scope-auth client: ${s.tokenEndpoint} answered ${status}${oauth ? ` ${oauth.error}` : ''}${detail} (gave up after ${tries})`,
          { code, status, description, retryable: true },
        ),
      };
    }
    if (oauth !== undefined) {
      const hint =
        oauth.error === 'invalid_client'
          ? ` Check the org id, key id (${s.apiKey}) and secret (SCOPE_ORG_ID, SCOPE_API_KEY, SCOPE_API_SECRET) and that the key is active.`
          : oauth.error === 'invalid_scope'
            ? ` Requested scope: ${JSON.stringify(s.scope ?? '')}.`
            : '';
      return {
        error: new ScopeAuthError(
          `scope-auth client: token exchange refused (${status} ${oauth.error}${detail}).${hint}`,
          { code: oauth.error, status, description },
        ),
      };
    }
    return {
      error: new ScopeAuthError(
        `scope-auth client: ${s.tokenEndpoint} answered ${status} without an OAuth error body; is authUrl (SCOPE_AUTH_API_URL) the scope-auth server?`,
        { code: 'unexpected_status', status },
      ),
    };
  }

  /**
   * A cause that mentions the secret anywhere in its chain (a fetch wrapper that echoes the
   * request, say) is replaced by a redacted copy, since loggers print causes too.
   */
  #safeCause(cause: unknown): unknown {
    const mentionsSecret = (value: unknown, depth: number): boolean => {
      if (depth > 8) return false;
      if (typeof value === 'string') return value.includes(this.#secret);
      if (!(value instanceof Error)) return value !== undefined && value !== null && String(value).includes(this.#secret);
      return value.message.includes(this.#secret) || (value.stack ?? '').includes(this.#secret) || mentionsSecret(value.cause, depth + 1);
    };
    if (!mentionsSecret(cause, 0)) return cause;
    const redacted = new Error(this.#redact(cause instanceof Error ? cause.message : String(cause)));
    redacted.name = cause instanceof Error ? cause.name : 'Error';
    redacted.stack = `${redacted.name}: ${redacted.message}`;
    return redacted;
  }

  /** Text that came from elsewhere (a response, an exception) is scrubbed of the secret, in case it echoes the request. */
  #redact(text: string): string {
    return text.split(this.#secret).join('[redacted]');
  }
}

function readProcessEnv(): Readonly<Record<string, string | undefined>> {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env ?? {};
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readTokenResponse(json: unknown): { accessToken: string; expiresIn: number; scope: string } | undefined {
  if (!isRecord(json)) return undefined;
  const { access_token: accessToken, token_type: tokenType, expires_in: expiresIn, scope } = json;
  if (typeof accessToken !== 'string' || accessToken === '') return undefined;
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') return undefined;
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0) return undefined;
  return { accessToken, expiresIn, scope: typeof scope === 'string' ? scope : '' };
}

function readOAuthError(json: unknown): { error: string; description: string | undefined } | undefined {
  if (!isRecord(json) || typeof json['error'] !== 'string' || json['error'] === '') return undefined;
  const description = json['error_description'];
  return { error: json['error'], description: typeof description === 'string' ? description : undefined };
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
