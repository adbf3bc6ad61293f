import { describe, expect, it } from 'vitest';
import { throttleSubject } from '../../src/domain/throttle-subject.js';

describe('throttleSubject', () => {
  it('counts an IPv4 client by its address', () => {
    expect(throttleSubject('203.0.113.7')).toBe('203.0.113.7');
    expect(throttleSubject('203.0.113.8')).toBe('203.0.113.8');
  });

  it('counts an IPv4 client reported as IPv4-mapped IPv6 by its IPv4 address', () => {
    expect(throttleSubject('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(throttleSubject('::FFFF:cb00:7107')).toBe('203.0.113.7');
    expect(throttleSubject('0:0:0:0:0:ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts every address of one IPv6 /64 as one client', () => {
    const subject = throttleSubject('2001:db8:1:2::1');
    expect(subject).toBe('2001:db8:1:2::/64');
    for (const address of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:abcd::9', '2001:DB8:1:2:0:0:0:0', '2001:db8:1:2::5%eth0']) {
      expect(throttleSubject(address), address).toBe(subject);
    }
  });

  it('keeps different /64s apart, however close', () => {
    expect(throttleSubject('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(throttleSubject('2001:db8:1::1')).toBe('2001:db8:1:0::/64');
    expect(throttleSubject('2001:db8::1:2:3:4')).toBe('2001:db8:0:0::/64');
    expect(throttleSubject('::1')).toBe('0:0:0:0::/64');
  });

  it('reads an IPv6 address with a dotted tail that is not IPv4-mapped as IPv6', () => {
    expect(throttleSubject('64:ff9b:1:2::192.0.2.33')).toBe('64:ff9b:1:2::/64');
  });

  it('keeps something that is not an address as it is, cut to 64 characters', () => {
    expect(throttleSubject('unknown')).toBe('unknown');
    expect(throttleSubject('x'.repeat(100))).toBe('x'.repeat(64));
  });
});
