// The shapes of the network settings config.ts reads: a listen host, and the proxies whose
// X-Forwarded-For is believed. Pure: config.ts reads the variables and words the errors.
import { isIP } from 'node:net';

/** Express's `trust proxy` setting: false, true, a hop count, or a list of addresses/subnets. */
export type TrustProxy = boolean | number | string[];

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** An IP address or a host name. */
export function isListenHost(raw: string): boolean {
  return isIP(raw) !== 0 || HOSTNAME.test(raw);
}

function isAddressOrSubnet(entry: string): boolean {
  if (/^(loopback|linklocal|uniquelocal)$/.test(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

/**
 * The trust-proxy setting `raw` spells, or null when it spells none. Addresses are checked
 * here, not left to express, which throws at app creation for an invalid one ("invalid IP
 * address: cafe") with a message that does not name the variable.
 */
export function parseTrustProxy(raw: string): TrustProxy | null {
  if (/^(false|0|no)$/i.test(raw)) return false;
  if (/^(true|yes)$/i.test(raw)) return true;
  if (/^\d+$/.test(raw) && Number(raw) <= 100) return Number(raw);
  const entries = raw.split(',').map((entry) => entry.trim());
  return entries.every(isAddressOrSubnet) ? entries : null;
}
