// Whom the throttle counts a client address against. One host usually owns a whole IPv6 /64
// (SLAAC, privacy addresses, a /64 routed to one box), so counting by the full address would
// give an attacker 2^64 fresh counters for free: IPv6 is counted by its /64. IPv4 is counted
// by address, and so is an IPv4 address written as IPv6 (`::ffff:1.2.3.4`, which a dual-stack
// socket reports for every IPv4 client), or it would share one counter with every IPv4 client.
import { isIPv4, isIPv6 } from 'node:net';

/** Longest subject kept for something that is not an address (proxy-addr's `unknown`, say). */
const MAX_OTHER = 64;

/** `1.2.3.4` for IPv4 and IPv4-mapped IPv6, `2001:db8:0:1::/64` for any other IPv6 address. */
export function throttleSubject(address: string): string {
  // A zone (`fe80::1%eth0`) names the interface, not the host.
  const bare = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return address.slice(0, MAX_OTHER);
  const groups = ipv6Groups(bare);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail split in two). */
function ipv6Groups(address: string): number[] {
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [parseInt(group, 16)];
          const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const gap = address.indexOf('::');
  if (gap === -1) return parse(address);
  const head = parse(address.slice(0, gap));
  const tail = parse(address.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}
