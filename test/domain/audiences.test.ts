import { describe, expect, it } from 'vitest';
import { allowedAudiences, checkAppAudience } from '../../src/domain/audiences.js';
import { buildCatalog, loadCatalog } from '../../src/domain/scopes.js';
import { invalidRequestOf } from '../helpers/thrown.js';

const listed = buildCatalog({ audiences: [{ audience: 'https://api.example.com' }, { audience: 'https://billing.example.com' }] });
const policy = { catalog: listed, defaultAudience: 'https://auth.example.com' };
const unlisted = { catalog: loadCatalog(null), defaultAudience: 'https://auth.example.com' };

describe("an app's audience", () => {
  it('may be one the catalogue lists, or the default audience', () => {
    expect(allowedAudiences(policy)).toEqual(['https://api.example.com', 'https://billing.example.com', 'https://auth.example.com']);
    expect(checkAppAudience(policy, 'https://billing.example.com')).toBe('https://billing.example.com');
    expect(checkAppAudience(policy, 'https://auth.example.com')).toBe('https://auth.example.com');
  });

  it('may be null, meaning the default audience', () => {
    expect(checkAppAudience(policy, null)).toBeNull();
    expect(checkAppAudience(unlisted, null)).toBeNull();
  });

  it('may only be the default audience when the catalogue lists none', () => {
    expect(allowedAudiences(unlisted)).toEqual(['https://auth.example.com']);
    const error = invalidRequestOf(() => checkAppAudience(unlisted, 'https://api.example.com'));
    expect(error.extra).toEqual({ allowed_audiences: ['https://auth.example.com'] });
  });

  it('is refused otherwise, with a 400 naming every allowed one', () => {
    const error = invalidRequestOf(() => checkAppAudience(policy, 'https://api-a.example'));
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      'audience: "https://api-a.example" is not an audience of this server; expected one of "https://api.example.com", "https://billing.example.com", "https://auth.example.com", or null for the default "https://auth.example.com" (GET /v1/scopes lists them)',
    );
    expect(error.extra).toEqual({ allowed_audiences: ['https://api.example.com', 'https://billing.example.com', 'https://auth.example.com'] });
  });

  it('lists the default once when the catalogue lists it too', () => {
    const both = buildCatalog({ audiences: [{ audience: 'https://auth.example.com' }] });
    expect(allowedAudiences({ catalog: both, defaultAudience: 'https://auth.example.com' })).toEqual(['https://auth.example.com']);
  });
});
