// The headers of every console response. The policy lets a page load only this server's own
// stylesheet, script and images (and data: images, for the QR code), send forms and fetches
// only here, be framed by nobody and change no base URL: no inline script or style attribute
// runs, so markup injected into a page could do nothing. No referrer leaves a page, since an
// invitation's token is in its URL. Pages are never stored (they show secrets once, and what
// a person may see changes with their role); the assets set their own caching.
import type { RequestHandler } from 'express';

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** The console's paths: /console, everything under it, and / (which redirects there). */
export function isConsolePath(path: string): boolean {
  return path === '/' || path === '/console' || path.startsWith('/console/');
}

export const consoleHeaders: RequestHandler = (req, res, next) => {
  if (!isConsolePath(req.path)) return next();
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (!req.path.startsWith('/console/assets/')) {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
  }
  next();
};
