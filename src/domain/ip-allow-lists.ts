// IP allow-lists: the client addresses an app's (and optionally a key's) exchanges may come
// from. A list is IPv4/IPv6 addresses and CIDR ranges, stored normalized (canonical text,
// host bits cleared, an IPv4-mapped IPv6 address written as the IPv4 address it stands for)
// so that two spellings of one range compare equal and what an admin reads back is what is
// enforced. Null means any address; an empty list is refused rather than read as "no
// address", which would be a silent way of disabling every key (revoke them instead).
//
// The exchange matches against net.BlockList (native, and it treats `::ffff:1.2.3.4` and
// `1.2.3.4` alike), compiled once per distinct stored text, and remembers each list's answer
// per client address, so a warm exchange parses nothing and matches nothing.
import { BlockList, isIP, isIPv4 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { InvalidRequestError } from '../errors.js';

/** The most entries one list may hold. */
export const ALLOWED_IPS_MAX = 100;
/** Longer than any address with its prefix; anything longer is not one. */
const ENTRY_MAX = 64;

/** A list as stored and shown: normalized entries, or null for any address. */
export type AllowedIps = readonly string[] | null;

type Range = { readonly address: ipaddr.IPv4 | ipaddr.IPv6; readonly prefix: number };

/** An address's length in bits: the prefix of a range of one. */
const widthOf = (address: ipaddr.IPv4 | ipaddr.IPv6) => (address.kind() === 'ipv4' ? 32 : 128);

function refuse(field: string, entry: string, why: string): never {
  const shown = entry.length > ENTRY_MAX ? `${entry.slice(0, ENTRY_MAX)}…` : entry;
  throw new InvalidRequestError(`${field}: "${shown}" ${why}; expected an IPv4 or IPv6 address or a CIDR range such as 203.0.113.0/24 or 2001:db8::/32`, {
    extra: { invalid_entry: shown },
  });
}

/** The range an entry names; an address is a range of one. */
function parseEntry(field: string, raw: string): Range {
  const entry = raw.trim();
  if (entry === '' || entry.length > ENTRY_MAX) refuse(field, entry, 'is not an address or a range');
  const slash = entry.indexOf('/');
  const text = slash === -1 ? entry : entry.slice(0, slash);
  if (text.includes('%')) refuse(field, entry, 'names a network interface (a zone), which no client address is matched against');
  // net.isIP is strict (dotted decimal only), unlike ipaddr.js's lenient parse.
  const family = isIP(text);
  if (family === 0) refuse(field, entry, 'is not an IP address');
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash !== -1) {
    const digits = entry.slice(slash + 1);
    prefix = /^(0|[1-9]\d{0,2})$/.test(digits) ? Number(digits) : NaN;
    if (!(prefix >= 0 && prefix <= bits)) refuse(field, entry, `has a prefix length outside 0–${bits}`);
  }
  let address: ipaddr.IPv4 | ipaddr.IPv6 = family === 4 ? ipaddr.IPv4.parse(text) : ipaddr.IPv6.parse(text);
  // `::ffff:1.2.3.4` is how a dual-stack socket reports an IPv4 client: store the IPv4 form.
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
    address = (address as ipaddr.IPv6).toIPv4Address();
    prefix -= 96;
  }
  if (prefix === widthOf(address)) return { address, prefix };
  // Host bits are cleared: `10.1.2.3/8` is the range 10.0.0.0/8, and it is stored so.
  const cidr = `${address.toString()}/${prefix}`;
  return { address: address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr), prefix };
}

function format(range: Range): string {
  const text = range.address.kind() === 'ipv4' ? range.address.toString() : (range.address as ipaddr.IPv6).toRFC5952String();
  return range.prefix === widthOf(range.address) ? text : `${text}/${range.prefix}`;
}

/**
 * A new list as it will be stored: 1 to 100 entries, each normalized, duplicates dropped,
 * in the order given; InvalidRequestError naming `field` and the first bad entry otherwise.
 */
export function checkAllowedIps(field: string, list: readonly string[]): string[] {
  if (list.length === 0) {
    throw new InvalidRequestError(`${field}: expected at least one address or range; null allows any address (an empty list would allow none: revoke the keys instead)`);
  }
  if (list.length > ALLOWED_IPS_MAX) throw new InvalidRequestError(`${field}: expected at most ${ALLOWED_IPS_MAX} addresses or ranges`);
  return [...new Set(list.map((entry) => format(parseEntry(field, entry))))];
}

/** `range` as IPv6, for comparing an IPv4 range with an IPv6 one (`::ffff:0:0/96` holds every IPv4 address). */
function asIPv6(range: Range): Range {
  return range.address.kind() === 'ipv6' ? range : { address: (range.address as ipaddr.IPv4).toIPv4MappedAddress(), prefix: range.prefix + 96 };
}

function contains(outer: Range, inner: Range): boolean {
  const [a, b] = outer.address.kind() === inner.address.kind() ? [outer, inner] : [asIPv6(outer), asIPv6(inner)];
  return a.prefix <= b.prefix && b.address.match(a.address, a.prefix);
}

/**
 * Refuses (400 naming them) entries of a key's list (already checked) that do not lie
 * entirely within one entry of its app's list; with no app list, any entry does.
 */
export function checkWithinAppList(field: string, keyList: readonly string[], appList: AllowedIps): void {
  if (appList === null) return;
  const app = appList.map((entry) => parseEntry('allowed_ips', entry));
  const outside = keyList.filter((entry) => {
    const range = parseEntry(field, entry);
    return !app.some((outer) => contains(outer, range));
  });
  if (outside.length > 0) {
    throw new InvalidRequestError(`${field}: the app's allowed_ips (${appList.join(' ')}) do not hold ${outside.join(', ')}; a key's list narrows its app's`, {
      extra: { outside_app: outside },
    });
  }
}

function compile(stored: string): BlockList {
  const list = new BlockList();
  for (const entry of JSON.parse(stored) as string[]) {
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = isIPv4(address) ? 'ipv4' : 'ipv6';
    if (slash === -1) list.addAddress(address, family);
    else list.addSubnet(address, Number(entry.slice(slash + 1)), family);
  }
  return list;
}

/** Distinct stored lists compiled at most; lists are per app (and some keys), this only bounds a pathological case. */
const COMPILED_LIMIT = 1024;
/**
 * (list, client address) answers remembered, over all lists (~2 MiB at most). BlockList.check
 * costs ~2.5 µs (it builds a SocketAddress every call), a Map lookup a tenth of that, and an
 * app's clients come from few addresses; a flood from ever new ones only refills the memo.
 */
const ANSWERS_LIMIT = 16_384;

interface Compiled {
  readonly list: BlockList;
  readonly answers: Map<string, boolean>;
}

/** Whether an exchange from `ip` passes the stored lists (JSON text, null: any address) of a key's app and of the key. */
export type AddressPolicy = (appList: string | null, keyList: string | null, ip: string) => boolean;

/**
 * The exchange's address check. Both lists apply (the app's may have been narrowed since the
 * key's was set). An address that is not one (proxy-addr's `unknown`) passes no list.
 */
export function createAddressPolicy(): AddressPolicy {
  const compiled = new Map<string, Compiled>();
  let answers = 0;
  function allows(stored: string, ip: string): boolean {
    let entry = compiled.get(stored);
    if (entry === undefined) {
      if (compiled.size >= COMPILED_LIMIT) {
        compiled.clear();
        answers = 0;
      }
      compiled.set(stored, (entry = { list: compile(stored), answers: new Map() }));
    }
    let answer = entry.answers.get(ip);
    if (answer === undefined) {
      answer = check(entry.list, ip);
      if (answers >= ANSWERS_LIMIT) {
        for (const other of compiled.values()) other.answers.clear();
        answers = 0;
      }
      entry.answers.set(ip, answer);
      answers++;
    }
    return answer;
  }
  return (appList, keyList, ip) => {
    if (appList === null && keyList === null) return true;
    return (appList === null || allows(appList, ip)) && (keyList === null || allows(keyList, ip));
  };
}

function check(list: BlockList, ip: string): boolean {
  // A zone (`fe80::1%eth0`) names the interface, not the host.
  const bare = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip;
  const family = isIP(bare);
  if (family === 0) return false;
  return list.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}
