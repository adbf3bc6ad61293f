/**
 * The closed set of errors the SDK throws. Nothing here imports server code, node
 * built-ins or jose, so both the client and the verifier can share it.
 */

/**
 * Codes a {@link ScopeAuthError} carries. The first four are OAuth 2.0 `error` values
 * from the token endpoint; the rest describe failures on the client's side of the wire.
 * An OAuth error this list does not know arrives as its own string.
 */
export type ScopeAuthErrorCode =
  | 'invalid_client'
  | 'invalid_scope'
  | 'invalid_request'
  | 'unsupported_grant_type'
  /** 429 after every retry (or a `Retry-After` beyond the retry budget). */
  | 'rate_limited'
  /** 5xx after every retry. */
  | 'server_error'
  /** The request never got an HTTP answer (DNS, refused, reset, timeout) after every retry. */
  | 'network_error'
  /** A 2xx whose body is not a usable token response. */
  | 'invalid_response'
  /** A non-2xx without an OAuth error body, e.g. a 404 from a wrong `authUrl`. */
  | 'unexpected_status'
  /** A required option is missing or malformed. */
  | 'invalid_config';

/**
 * Thrown by `ScopeAuthClient`. `code` is the OAuth error (`invalid_client`, …) or one of the
 * SDK's own codes; `status` is the HTTP status of the last answer, when there was one.
 * Messages never contain the API secret.
 *
 * @example
 * ```ts
 * try {
 *   await client.getToken()
 * } catch (err) {
 *   if (err instanceof ScopeAuthError && err.code === 'invalid_client') {
 *     console.error('the key was revoked or the secret is wrong')
 *   }
 * }
 * ```
 */
export class ScopeAuthError extends Error {
  override readonly name = 'ScopeAuthError';
  readonly code: ScopeAuthErrorCode | (string & {});
  readonly status: number | undefined;
  /** The server's `error_description`, when it sent one. */
  readonly description: string | undefined;
  /** Whether the client would retry this failure (it did, until its budget ran out). */
  readonly retryable: boolean;

  constructor(
    message: string,
    details: {
      code: ScopeAuthErrorCode | (string & {});
      status?: number | undefined;
      description?: string | undefined;
      retryable?: boolean;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code;
    this.status = details.status;
    this.description = details.description;
    this.retryable = details.retryable ?? false;
  }
}

/** Stable codes of a {@link TokenVerificationError}. */
export type TokenVerificationErrorCode =
  /** No bearer token in the request (middleware only). */
  | 'token_missing'
  /** Longer than the verifier's `maxTokenLength`; rejected before parsing. */
  | 'token_too_large'
  /** Not a compact JWS in three unpadded base64url parts, or its header or payload is not valid JSON. */
  | 'token_malformed'
  /** `alg` is not in the allow-list (this includes `none` and every HS*). */
  | 'algorithm_not_allowed'
  /** No key in the issuer's JWKS matches the token's `kid` and `alg`. */
  | 'key_not_found'
  /** The signature does not match the header and payload. */
  | 'signature_invalid'
  /** `typ` header is missing or not `at+jwt`. */
  | 'typ_invalid'
  /** `exp` is in the past (beyond the clock tolerance). */
  | 'token_expired'
  /** `nbf` or `iat` is in the future (beyond the clock tolerance). */
  | 'token_not_yet_valid'
  /**
   * A claim is missing, ill-typed or has the wrong value (`iss`, `aud`, …); see `claim`.
   * A token of an org the verifier's `orgId` does not accept has claim `org_id`.
   */
  | 'claim_invalid'
  /** The JWKS could not be fetched; the token itself may be fine. */
  | 'jwks_unavailable'
  /** A valid token without a scope the route requires (middleware only; `claim` is `scope`). */
  | 'insufficient_scope';

const verificationStatus: Record<TokenVerificationErrorCode, number> = {
  token_missing: 401,
  token_too_large: 401,
  token_malformed: 401,
  algorithm_not_allowed: 401,
  key_not_found: 401,
  signature_invalid: 401,
  typ_invalid: 401,
  token_expired: 401,
  token_not_yet_valid: 401,
  claim_invalid: 401,
  jwks_unavailable: 503,
  insufficient_scope: 403,
};

/**
 * Thrown by `verifier.verify()`, and given to the verifier's `onError` hook for each refusal
 * of `require()`. `code` is stable and safe to branch on; `status` is the HTTP status a
 * resource server should answer (401, 403 for `insufficient_scope`, or 503 when the JWKS is
 * unreachable).
 *
 * @example
 * ```ts
 * try {
 *   const claims = await verifier.verify(token)
 * } catch (err) {
 *   if (err instanceof TokenVerificationError && err.code === 'token_expired') {
 *     // ask the caller to fetch a new token
 *   }
 * }
 * ```
 */
export class TokenVerificationError extends Error {
  override readonly name = 'TokenVerificationError';
  readonly code: TokenVerificationErrorCode;
  /** HTTP status a resource server should answer with. */
  readonly status: number;
  /** For `claim_invalid`, `token_expired` and `token_not_yet_valid`: the claim that failed. */
  readonly claim: string | undefined;

  constructor(
    code: TokenVerificationErrorCode,
    message: string,
    options: { claim?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = verificationStatus[code];
    this.claim = options.claim;
  }
}
