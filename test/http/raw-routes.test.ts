import { describe, expect, it } from 'vitest';
import { targetsPath } from '../../src/http/raw-routes.js';

describe('targetsPath', () => {
  it('matches the path alone or followed by a query string', () => {
    expect(targetsPath('/v1/token', '/v1/token')).toBe(true);
    expect(targetsPath('/v1/token?x=1', '/v1/token')).toBe(true);
    expect(targetsPath('/v1/token?', '/v1/token')).toBe(true);
  });

  it('matches nothing that only begins like the path, nor another case or a trailing slash', () => {
    for (const url of ['/v1/tokens', '/v1/token/', '/v1/token.json', '/V1/TOKEN', '/v1', '', '/v1/token#x']) {
      expect(targetsPath(url, '/v1/token'), url).toBe(false);
    }
    expect(targetsPath(undefined, '/v1/token')).toBe(false);
  });

  it('compares an absolute-form target by its path', () => {
    expect(targetsPath('http://auth.example.com/v1/token', '/v1/token')).toBe(true);
    expect(targetsPath('HTTPS://auth.example.com:8443/v1/token?x=1', '/v1/token')).toBe(true);
    expect(targetsPath('http://auth.example.com/v1/tokens', '/v1/token')).toBe(false);
    expect(targetsPath('*', '/v1/token')).toBe(false);
    expect(targetsPath('ftp://auth.example.com/v1/token', '/v1/token')).toBe(false);
    expect(targetsPath('http://[bad/v1/token', '/v1/token')).toBe(false);
  });
});
