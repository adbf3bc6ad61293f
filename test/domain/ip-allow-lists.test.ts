import { describe, expect, it } from 'vitest';
import { ALLOWED_IPS_MAX, checkAllowedIps, checkWithinAppList, createAddressPolicy } from '../../src/domain/ip-allow-lists.js';
import { invalidRequestOf } from '../helpers/thrown.js';

const stored = (list: string[]) => JSON.stringify(checkAllowedIps('allowed_ips', list));

describe('an IP allow-list as stored', () => {
  it('is normalized: canonical text, host bits cleared, single addresses without a prefix, duplicates dropped, order kept', () => {
    expect(checkAllowedIps('allowed_ips', [' 10.1.2.3/8 ', '2001:DB8:0:0:0:0:0:1', '2001:db8:0::/32', '192.0.2.1/32', '::1/128', '10.0.0.0/8', '0.0.0.0/0', '::/0'])).toEqual([
      '10.0.0.0/8',
      '2001:db8::1',
      '2001:db8::/32',
      '192.0.2.1',
      '::1',
      '0.0.0.0/0',
      '::/0',
    ]);
  });

  it('writes IPv4-mapped IPv6 addresses and ranges as IPv4', () => {
    expect(checkAllowedIps('allowed_ips', ['::ffff:192.0.2.1', '::ffff:c000:0201', '::ffff:198.51.100.0/120', '::ffff:0:0/96'])).toEqual(['192.0.2.1', '198.51.100.0/24', '0.0.0.0/0']);
  });

  it.each(['', 'localhost', '10.0.0', '10.0.0.256', '010.0.0.1', '10.0.0.1/33', '10.0.0.1/-1', '10.0.0.1/08', '10.0.0.1/', '10.0.0.1/8/8', '2001:db8::/129', '2001:db8:::1', 'fe80::1%eth0', '1.2.3.4 5.6.7.8', 'x'.repeat(65)])(
    'refuses %j, naming it',
    (entry) => {
      const error = invalidRequestOf(() => checkAllowedIps('allowed_ips', ['192.0.2.1', entry]));
      expect(error.message).toMatch(/^allowed_ips: "/);
      expect(error.message).toContain(entry.trim().slice(0, 64));
    },
  );

  it(`holds 1 to ${ALLOWED_IPS_MAX} entries`, () => {
    expect(invalidRequestOf(() => checkAllowedIps('allowed_ips', [])).message).toContain('null allows any address');
    const many = Array.from({ length: ALLOWED_IPS_MAX + 1 }, (_, i) => `10.0.${i}.0/24`);
    expect(invalidRequestOf(() => checkAllowedIps('allowed_ips', many)).message).toContain(`at most ${ALLOWED_IPS_MAX}`);
    expect(checkAllowedIps('allowed_ips', many.slice(0, ALLOWED_IPS_MAX))).toHaveLength(ALLOWED_IPS_MAX);
  });
});

describe("a key's list within its app's", () => {
  const app = checkAllowedIps('allowed_ips', ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);

  it('takes entries each within one entry of the app', () => {
    expect(() => checkWithinAppList('allowed_ips', ['10.0.0.0/8', '10.1.0.0/16', '10.2.3.4', '2001:db8:1::/48', '192.0.2.7'], app)).not.toThrow();
    expect(() => checkWithinAppList('allowed_ips', ['0.0.0.0/0', '::/0'], null)).not.toThrow();
  });

  it('refuses entries outside, or wider than, every entry of the app, naming them', () => {
    const error = invalidRequestOf(() => checkWithinAppList('allowed_ips', ['10.1.0.0/16', '10.0.0.0/7', '192.0.2.0/24', '2001:db9::1'], app));
    expect(error.extra).toMatchObject({ outside_app: ['10.0.0.0/7', '192.0.2.0/24', '2001:db9::1'] });
  });

  it('compares IPv4 entries with an app range written as IPv6', () => {
    expect(() => checkWithinAppList('allowed_ips', ['192.0.2.0/24'], ['::ffff:0:0/95'])).not.toThrow();
    expect(() => checkWithinAppList('allowed_ips', ['192.0.2.0/24'], ['2001:db8::/32'])).toThrow();
  });
});

describe('the exchange’s address check', () => {
  const allows = createAddressPolicy();
  const app = stored(['198.51.100.0/24', '2001:db8::/32', '192.0.2.7']);

  it('lets any address through when neither the app nor the key has a list', () => {
    expect(allows(null, null, '203.0.113.1')).toBe(true);
    expect(allows(null, null, 'unknown')).toBe(true);
  });

  it('matches addresses and ranges of both families', () => {
    for (const ip of ['198.51.100.0', '198.51.100.255', '192.0.2.7', '2001:db8::1', '2001:db8:ffff::1']) expect(allows(app, null, ip)).toBe(true);
    for (const ip of ['198.51.101.0', '192.0.2.8', '2001:db9::1', '::1', '127.0.0.1']) expect(allows(app, null, ip)).toBe(false);
  });

  it('treats an IPv4-mapped client address as the IPv4 address, and ignores a zone', () => {
    expect(allows(app, null, '::ffff:198.51.100.9')).toBe(true);
    expect(allows(app, null, '::ffff:203.0.113.9')).toBe(false);
    expect(allows(stored(['fe80::/10']), null, 'fe80::1%eth0')).toBe(true);
  });

  it('requires both lists to allow the address', () => {
    const key = stored(['198.51.100.0/25']);
    expect(allows(app, key, '198.51.100.1')).toBe(true);
    expect(allows(app, key, '198.51.100.200')).toBe(false);
    expect(allows(null, key, '198.51.100.1')).toBe(true);
    expect(allows(stored(['2001:db8::/32']), key, '198.51.100.1')).toBe(false);
  });

  it('allows nothing that is not an address', () => {
    expect(allows(app, null, 'unknown')).toBe(false);
    expect(allows(app, null, '')).toBe(false);
  });
});

describe('the exchange’s address check under many addresses', () => {
  it('answers alike once its memo of answers has been refilled many times', () => {
    const allows = createAddressPolicy();
    const app = stored(['10.0.0.0/8']);
    for (let i = 0; i < 40_000; i++) expect(allows(app, null, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)).toBe(true);
    for (let i = 0; i < 20_000; i++) expect(allows(app, null, `11.0.${(i >> 8) & 255}.${i & 255}`)).toBe(false);
    expect(allows(app, null, '10.0.0.1')).toBe(true);
    expect(allows(app, null, '11.0.0.1')).toBe(false);
  });
});
