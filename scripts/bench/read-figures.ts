// Figures 3 and 4: what verifiers do all day — fetch the JWKS, verify a token with it.
import type { JWK } from 'jose';
import { bareServer, log, throughputJob, withBaselines, type Bench } from './bench.js';
import { alternate, atLeast, expectAllOk, figure } from './figures.js';

/** 3. JWKS vs a bare route returning the same bytes. */
export async function jwksFigure(b: Bench) {
  log(`${b.dialect}: JWKS vs bare constant JSON`);
  const body = await (await fetch(b.jwksUrl)).text();
  await b.load({ ...throughputJob(b.plan, b.jwksUrl), durationSeconds: b.plan.warmupSeconds });
  const [jwks, constant] = await withBaselines(
    async () => [await bareServer(b, 'constant', { body }, (url) => throughputJob(b.plan, `${url}/.well-known/jwks.json`))] as const,
    ([bare]) => alternate(b.plan.rounds, () => b.load(throughputJob(b.plan, b.jwksUrl), b.server.pid), bare.measure),
  );
  b.raw.jwks = jwks;
  b.raw.bareConstant = constant;
  b.figures.push(
    figure('3 JWKS ÷ bare constant JSON route', b.dialect, jwks.rps, 'req/s', { value: constant.rps, unit: 'req/s' }, { text: '≥ 0.9', test: atLeast(0.9) }, {
      cpu: { ours: jwks.cpuMsPerRequest, baseline: constant.cpuMsPerRequest },
      note: expectAllOk('jwks', jwks),
    }),
  );
}

/** 4. The SDK's verifier middleware vs bare jose.jwtVerify with a local key; no database, so once per run. */
export async function verifierFigure(b: Bench) {
  log('SDK verifier middleware vs bare jose.jwtVerify');
  const kid = (JSON.parse(Buffer.from(b.token.access_token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
  const jwks = (await (await fetch(b.jwksUrl)).json()) as { keys: Array<JWK & { kid: string }> };
  const jwk = jwks.keys.find((k) => k.kid === kid)!;
  const config = { issuer: b.env.SCOPE_AUTH_ISSUER!, audience: b.env.SCOPE_AUTH_ISSUER!, requiredScope: 'tools:deploy' };
  const job = (url: string) => throughputJob(b.plan, `${url}/resource`, { headers: { authorization: `Bearer ${b.token.access_token}` } });
  const [sdk, jose] = await withBaselines(
    async () => [await bareServer(b, 'sdk-verify', { ...config, jwksUrl: b.jwksUrl }, job), await bareServer(b, 'jose-verify', { ...config, jwk }, job)] as const,
    ([ours, bare]) => alternate(b.plan.rounds, ours.measure, bare.measure),
  );
  b.raw.sdkVerifier = sdk;
  b.raw.bareJoseVerify = jose;
  b.figures.push(
    figure('4 SDK verifier middleware ÷ bare jose.jwtVerify', 'any', sdk.rps, 'req/s', { value: jose.rps, unit: 'req/s' }, { text: '≥ 0.9', test: atLeast(0.9) }, {
      cpu: { ours: sdk.cpuMsPerRequest, baseline: jose.cpuMsPerRequest },
      note: expectAllOk('sdk verifier', sdk) ?? expectAllOk('jose verify', jose),
    }),
  );
}
