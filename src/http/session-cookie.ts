// The session cookie. With an https issuer it is `__Host-scope-auth-session`: Secure, Path=/,
// no Domain (the __Host- prefix makes browsers refuse it otherwise, so a sibling subdomain
// cannot plant one), HttpOnly, SameSite=Strict. With an http issuer (http://localhost while
// developing) it is `scope-auth-session`, the same without Secure, which browsers would not
// send over http. Its value is the session's random secret; it is never put in a URL.
//
// Read by hand: express 5 parses no cookies, and one name is all this server reads (the
// cookie-parser middleware would parse every cookie of every request, and adds signing we
// do not need: the value is itself a 256-bit secret).
import type { Request, Response } from 'express';

export interface SessionCookie {
  readonly name: string;
  read(req: Request): string | undefined;
  set(res: Response, secret: string, maxAgeMs: number): void;
  clear(res: Response): void;
}

export function sessionCookie(issuer: string): SessionCookie {
  const secure = issuer.startsWith('https:');
  const name = secure ? '__Host-scope-auth-session' : 'scope-auth-session';
  const attributes = { httpOnly: true, secure, sameSite: 'strict', path: '/' } as const;
  return {
    name,
    read(req) {
      const header = req.headers.cookie;
      if (header === undefined) return undefined;
      for (const pair of header.split(';')) {
        const at = pair.indexOf('=');
        if (at !== -1 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
      }
      return undefined;
    },
    set(res, secret, maxAgeMs) {
      res.cookie(name, secret, { ...attributes, maxAge: maxAgeMs });
    },
    clear(res) {
      res.clearCookie(name, attributes);
    },
  };
}

/** Whether a browser would send this issuer's cookie without Secure to a host other than this machine: worth a warning. */
export function insecureCookieHost(issuer: string): string | null {
  const url = new URL(issuer);
  if (url.protocol === 'https:') return null;
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) ? null : url.host;
}
