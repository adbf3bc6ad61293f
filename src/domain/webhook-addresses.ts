// The SSRF guard of webhooks: which URLs may be registered and which addresses a delivery
// may connect to. Only public unicast addresses by default; SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP
// adds loopback (and http:// to it), SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE the operator's own
// networks. Registration checks what the URL itself says (a literal address, a credential,
// the scheme); every delivery checks again the addresses the host name resolves to, and
// connects only to one it checked (webhook-sender.ts), so DNS cannot point it elsewhere later.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { InvalidRequestError } from '../errors.js';

export interface AddressPolicy {
  readonly allowHttp: boolean;
  readonly allowPrivate: boolean;
}

export const WEBHOOK_URL_MAX = 2000;

/** Ranges SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE opens; multicast, broadcast and unspecified never are. */
const PRIVATE_RANGES: ReadonlySet<string> = new Set([
  'private',
  'loopback',
  'linkLocal',
  'uniqueLocal',
  'carrierGradeNat',
  'reserved',
  'benchmarking',
  'as112',
  'as112v6',
  'rfc6052',
  'rfc6145',
  '6to4',
  'teredo',
  'amt',
  'orchid2',
  'droneRemoteIdProtocolEntityTags',
]);

const RANGE_NAMES: Readonly<Record<string, string>> = {
  private: 'a private',
  loopback: 'a loopback',
  linkLocal: 'a link-local',
  uniqueLocal: 'a unique-local',
  carrierGradeNat: 'a CGNAT (shared address space)',
  multicast: 'a multicast',
  broadcast: 'a broadcast',
  unspecified: 'an unspecified',
};

/**
 * What kind of address the guard refuses `address` as ("a loopback address (…)"), or null
 * when it may be connected to.
 */
export function refusedAddress(address: string, policy: AddressPolicy): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process(): an IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it is.
    parsed = ipaddr.process(address);
  } catch {
    return 'not an IP address';
  }
  const range = parsed.range();
  if (range === 'unicast') return null;
  if (range === 'loopback' && policy.allowHttp) return null;
  if (policy.allowPrivate && PRIVATE_RANGES.has(range)) return null;
  const name = RANGE_NAMES[range] ?? 'a special-purpose';
  const switchName = range === 'loopback' ? 'SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP or SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE' : 'SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE';
  return `${name} address${PRIVATE_RANGES.has(range) ? ` (allowed only with ${switchName})` : ''}`;
}

/** The host of a URL as an address when it is one (`[::1]` → `::1`), else null. */
export function literalAddress(url: URL): string | null {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) === 0 ? null : host;
}

const isLocalhostName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

/** Whether a plain-http delivery may go to `address`: loopback only, and only with SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP. */
export function httpAllowedTo(address: string, policy: AddressPolicy): boolean {
  try {
    return policy.allowHttp && ipaddr.process(address).range() === 'loopback';
  } catch {
    return false;
  }
}

const HTTPS_ONLY = 'must be an https:// URL (http:// only to a loopback address, with SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP=true)';

/**
 * The URL as stored (normalized), or InvalidRequestError naming `url`: https (or http to
 * loopback when allowed), no user name or password, no fragment, and no address the policy
 * refuses written into it. Host names are resolved at each delivery, not here.
 */
export function checkWebhookUrl(raw: string, policy: AddressPolicy): string {
  const bad = (why: string) => new InvalidRequestError(`url: ${why}`);
  if (raw.length > WEBHOOK_URL_MAX) throw bad(`expected at most ${WEBHOOK_URL_MAX} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad('expected an absolute https:// URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(HTTPS_ONLY);
  if (url.username !== '' || url.password !== '') throw bad('must not hold a user name or password; authenticate deliveries by their signature');
  if (url.hash !== '' || raw.includes('#')) throw bad('must not have a fragment');
  const address = literalAddress(url);
  const host = url.hostname.toLowerCase();
  if (address !== null) {
    const refused = refusedAddress(address, policy);
    if (refused !== null) throw bad(`${address} is ${refused}; webhooks go to public addresses only`);
  } else if (isLocalhostName(host) && !policy.allowHttp && !policy.allowPrivate) {
    throw bad(`${host} is a loopback name; webhooks go to public addresses only`);
  }
  if (url.protocol === 'http:') {
    const loopback = address === null ? isLocalhostName(host) && policy.allowHttp : httpAllowedTo(address, policy);
    if (!loopback) throw bad(HTTPS_ONLY);
  }
  return url.href;
}
