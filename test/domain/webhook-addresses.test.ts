// The SSRF guard's rules on their own: which addresses a delivery may connect to and which
// URLs may be registered, under each of the operator's two switches.
import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, refusedAddress } from '../../src/domain/webhook-addresses.js';
import { InvalidRequestError } from '../../src/errors.js';

const STRICT = { allowHttp: false, allowPrivate: false };
const HTTP = { allowHttp: true, allowPrivate: false };
const PRIVATE = { allowHttp: false, allowPrivate: true };

describe('the addresses a delivery may connect to', () => {
  it('are public unicast addresses only, by default', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) expect(refusedAddress(address, STRICT), address).toBeNull();
    const refused: [string, string][] = [
      ['10.1.2.3', 'a private address'],
      ['172.31.255.255', 'a private address'],
      ['192.168.0.1', 'a private address'],
      ['127.0.0.1', 'a loopback address'],
      ['127.255.0.9', 'a loopback address'],
      ['::1', 'a loopback address'],
      ['169.254.169.254', 'a link-local address'],
      ['fe80::1', 'a link-local address'],
      ['fc00::5', 'a unique-local address'],
      ['100.100.100.100', 'a CGNAT (shared address space) address'],
      ['239.255.255.250', 'a multicast address'],
      ['ff02::1', 'a multicast address'],
      ['0.0.0.0', 'an unspecified address'],
      ['::', 'an unspecified address'],
      ['255.255.255.255', 'a broadcast address'],
      // An IPv4 address inside IPv6 is judged as itself; NAT64 and 6to4 could hide any address.
      ['::ffff:10.0.0.1', 'a private address'],
      ['::ffff:127.0.0.1', 'a loopback address'],
      ['64:ff9b::a00:1', 'a special-purpose address'],
      ['2002:a00:1::', 'a special-purpose address'],
      ['192.0.2.1', 'a special-purpose address'],
      ['not an address', 'not an IP address'],
    ];
    for (const [address, why] of refused) expect(refusedAddress(address, STRICT), address).toContain(why);
  });

  it('include loopback with SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP, and nothing else more', () => {
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(refusedAddress(address, HTTP), address).toBeNull();
    for (const address of ['10.0.0.1', '169.254.169.254', 'fd00::1', '100.64.0.1']) expect(refusedAddress(address, HTTP), address).not.toBeNull();
  });

  it('include the private ranges with SCOPE_AUTH_WEBHOOKS_ALLOW_PRIVATE, never multicast, broadcast or unspecified', () => {
    for (const address of ['10.0.0.1', '192.168.1.1', '127.0.0.1', '::1', '169.254.10.10', 'fd12::1', '100.64.0.1']) expect(refusedAddress(address, PRIVATE), address).toBeNull();
    for (const address of ['224.0.0.1', '255.255.255.255', '0.0.0.0', '::']) expect(refusedAddress(address, PRIVATE), address).not.toBeNull();
  });
});

describe('the URLs a webhook may be registered with', () => {
  const refusal = (url: string, policy = STRICT) => {
    try {
      checkWebhookUrl(url, policy);
      return null;
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRequestError);
      return (error as Error).message;
    }
  };

  it('are https:// URLs to host names or public addresses, stored normalized', () => {
    expect(checkWebhookUrl('HTTPS://Hooks.Example.COM:443/in?x=1', STRICT)).toBe('https://hooks.example.com/in?x=1');
    expect(checkWebhookUrl('https://93.184.216.34/in', STRICT)).toBe('https://93.184.216.34/in');
    expect(refusal('https://[2606:4700::1]/')).toBeNull();
  });

  it('take http:// only to loopback, and only with SCOPE_AUTH_WEBHOOKS_ALLOW_HTTP', () => {
    expect(refusal('http://127.0.0.1:8080/')).toContain('a loopback address');
    expect(refusal('http://127.0.0.1:8080/', HTTP)).toBeNull();
    expect(refusal('http://[::1]:8080/', HTTP)).toBeNull();
    expect(refusal('http://localhost:8080/', HTTP)).toBeNull();
    expect(refusal('http://hooks.example.com/', HTTP)).toContain('must be an https:// URL');
    expect(refusal('http://10.0.0.1/', HTTP)).toContain('a private address');
    // Private networks may be reached over https only.
    expect(refusal('http://10.0.0.1/', PRIVATE)).toContain('must be an https:// URL');
    expect(refusal('https://10.0.0.1/', PRIVATE)).toBeNull();
  });

  it('never hold credentials, a fragment or another scheme', () => {
    expect(refusal('https://a:b@hooks.example.com/')).toContain('user name or password');
    expect(refusal('https://hooks.example.com/#x')).toContain('fragment');
    expect(refusal('https://hooks.example.com/#')).toContain('fragment');
    expect(refusal('javascript:alert(1)')).toContain('https://');
    expect(refusal('//hooks.example.com/')).toContain('absolute');
  });
});
