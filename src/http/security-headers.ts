// The security headers of every response. This server answers only JSON (and the Prometheus
// text format), never a page a browser renders, so the headers that matter are the ones the
// OWASP REST Security Cheat Sheet names for an API: nothing may run, be framed or be
// sniffed as something else, and the connection stays on HTTPS (Cache-Control is set per
// route: no-store on everything that carries a secret or a token). helmet's defaults add a
// dozen more meant for HTML documents (cross-origin isolation, DNS prefetch, IE download
// and XSS-filter switches); they cost time on every response and more than half of the
// bytes of a JWKS answer, and protect nothing a JSON body can be used for.
import type { ServerResponse } from 'node:http';

const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  // No script, style, frame or plugin may load, and no page may frame this one, should a
  // browser ever be tricked into rendering a response.
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
});

const entries = Object.entries(SECURITY_HEADERS);

/** Sets them on a response; createApp calls it once for every request, before anything answers. */
export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of entries) res.setHeader(name, value);
}
