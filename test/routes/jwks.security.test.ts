import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

describe('GET /.well-known/jwks.json, security', () => {
  const contexts: TestContext[] = [];
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close()));
  });

  it.each(['ES256', 'EdDSA', 'RS256', 'PS256'])('publishes only public members of %s keys', async (alg) => {
    const ctx = await createTestContext({ dialect: 'sqlite', env: { SCOPE_AUTH_SIGNING_ALG: alg } });
    contexts.push(ctx);
    const res = await request(ctx.app).get('/.well-known/jwks.json').expect(200);
    // The signing key and its standby.
    expect(res.body.keys).toHaveLength(2);
    for (const jwk of res.body.keys) {
      expect(jwk.alg).toBe(alg);
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
      if (alg.startsWith('RS') || alg.startsWith('PS')) {
        expect(Buffer.from(jwk.n, 'base64url').length * 8).toBe(3072);
      }
    }
  });

  it('never stores a private key in plaintext', async () => {
    const ctx = await createTestContext({ dialect: 'sqlite' });
    contexts.push(ctx);
    const rows = await ctx.db.selectFrom('signing_keys').select(['private_jwk_enc', 'public_jwk']).execute();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.private_jwk_enc).toMatch(/^v1\./);
      expect(row.private_jwk_enc).not.toContain('"d"');
      expect(JSON.parse(row.public_jwk)).not.toHaveProperty('d');
    }
  });

  it('lets browsers read the public keys from any origin', async () => {
    const ctx = await createTestContext({ dialect: 'sqlite' });
    contexts.push(ctx);
    const res = await request(ctx.app).get('/.well-known/jwks.json').set('Origin', 'https://app.example.com').expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});
