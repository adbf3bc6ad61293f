// Routes answered before express. A few endpoints carry nearly all of a deployment's
// traffic: the JWKS, which every verifier of every downstream service polls, and the token
// endpoints (POST /v1/token, which every SDK client calls, and its OAuth 2.0 twin POST
// /oauth2/token). For them express's request handling (its prototypes, the router's passes,
// body-parser, its response helpers) measured more than half of the CPU of an answer, so
// createApp offers each request to these first and hands the rest to the express app.
// Security headers and the request log line are set before any of them answers.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers the request and returns true when it is this route's; returns false, having written nothing, otherwise. */
export type RawRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Whether a request target is exactly `path`, with or without a query string. The target is
 * usually origin-form (`/v1/token?…`); absolute-form (`http://host/v1/token`), which HTTP/1.1
 * servers must accept too (RFC 9112 §3.2.2), is compared by its path, as express does.
 */
export function targetsPath(url: string | undefined, path: string): boolean {
  if (url === undefined) return false;
  if (url.charCodeAt(0) !== SLASH) return absolutePath(url) === path;
  if (!url.startsWith(path)) return false;
  return url.length === path.length || url.charCodeAt(path.length) === QUESTION_MARK;
}

function absolutePath(url: string): string | null {
  if (!/^https?:\/\//i.test(url)) return null;
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
}

const SLASH = 0x2f;
const QUESTION_MARK = 0x3f;
