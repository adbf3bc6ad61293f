// Figures 1 and 2: token exchanges, cold (argon2 runs) and warm (the verified cache answers).
import type { BareConfig } from './bare.js';
import { POST, bareServer, coldExchanges, log, throughputJob, withBaselines, type Bench } from './bench.js';
import { alternate, atLeast, best, expectAllOk, figure } from './figures.js';
import { TSX } from './processes.js';

type Argon2Bare = { rps: number; verifications: number; seconds: number; cpuMsPerRequest: number; systemMsPerRequest: number; minorFaultsPerRequest: number };

/**
 * 1. Cold exchanges: each key once, so each request runs argon2 — after a warm-up on other
 * fresh keys, as the bare process warms up too. The keys are split over the rounds.
 * `measured` false: only what the warm figures need (every measured key verified once).
 */
export async function coldFigure(b: Bench, warmupBodies: string[], measured: boolean) {
  const coldJob = (bodies: string[]) => coldExchanges(b.tokenUrl, bodies, b.config);
  await b.load(coldJob(warmupBodies));
  if (!measured) {
    await b.load(coldJob(b.bodies)); // the warm figures need these keys verified
    return;
  }
  log(`${b.dialect}: cold exchanges (${b.bodies.length}) vs bare argon2.verify × ${b.config.argon2.concurrency}`);
  const perRound = Math.ceil(b.bodies.length / b.plan.rounds);
  const bareConfig: BareConfig = { secretHash: b.seeded.secretHash, secret: b.seeded.secret, concurrency: b.config.argon2.concurrency, durationSeconds: b.plan.seconds };
  const [cold, argon2Bare] = await alternate(
    b.plan.rounds,
    (round) => b.load(coldJob(b.bodies.slice(round * perRound, (round + 1) * perRound)), b.server.pid),
    () => b.processes.runJson<Argon2Bare>([...TSX, 'scripts/bench/bare.ts', 'argon2', JSON.stringify(bareConfig)]),
  );
  b.raw.cold = cold;
  b.raw.argon2Bare = argon2Bare;
  b.figures.push(
    figure('1 cold exchange ÷ bare argon2.verify', b.dialect, cold.rps, 'req/s', { value: argon2Bare.rps, unit: 'verify/s' }, { text: '≥ 0.85', test: atLeast(0.85) }, {
      cpu: { ours: cold.cpuMsPerRequest, baseline: argon2Bare.cpuMsPerRequest },
      note: expectAllOk('cold exchange', cold),
    }),
  );
}

/**
 * 2. Warm exchanges (the same keys again: argon2 skipped) vs a bare route signing an
 * equivalent JWT with jose — and, for information, with node:crypto as the server does.
 */
export async function warmFigure(b: Bench) {
  log(`${b.dialect}: warm exchanges vs bare sign routes`);
  const warmJob = (url: string) => throughputJob(b.plan, url, { ...POST, bodies: b.bodies });
  await b.load({ ...warmJob(b.tokenUrl), durationSeconds: b.plan.warmupSeconds });
  const signConfig = { issuer: b.env.SCOPE_AUTH_ISSUER!, audience: b.env.SCOPE_AUTH_ISSUER!, scope: b.token.scope };
  const [warm, signed, signedNode] = await withBaselines(
    async () => [await bareServer(b, 'sign', signConfig, (url) => warmJob(`${url}/token`)), await bareServer(b, 'sign-node', signConfig, (url) => warmJob(`${url}/token`))] as const,
    async ([sign, signNode]) => {
      const [ours, jose] = await alternate(b.plan.rounds, () => b.load(warmJob(b.tokenUrl), b.server.pid), sign.measure);
      return [ours, jose, best([await signNode.measure()])] as const;
    },
  );
  b.raw.warm = warm;
  b.raw.bareSign = signed;
  b.raw.bareSignNode = signedNode;
  b.figures.push(
    figure('2 warm exchange ÷ bare jose sign route', b.dialect, warm.rps, 'req/s', { value: signed.rps, unit: 'req/s' }, { text: '≥ 0.7', test: atLeast(0.7) }, {
      cpu: { ours: warm.cpuMsPerRequest, baseline: signed.cpuMsPerRequest },
      note: expectAllOk('warm exchange', warm),
    }),
    figure('2b warm exchange ÷ bare node:crypto sign route', b.dialect, warm.rps, 'req/s', { value: signedNode.rps, unit: 'req/s' }, { text: '(info)', test: null }, {
      cpu: { ours: warm.cpuMsPerRequest, baseline: signedNode.cpuMsPerRequest },
    }),
  );
}
