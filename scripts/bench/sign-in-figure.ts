// Figure 1b: sign-ins (POST /v1/sessions with the right password) against the same bare
// argon2.verify as the cold exchange (figure 1). A sign-in always runs argon2 — there is no
// cache of verified passwords — and then writes a session (the session row, the person's
// last sign-in, an audit event, in one transaction), so this is what signing in costs over
// its one verification. The seeded people take turns, so no one person's throttle counter
// holds many attempts at once; alternated with the baseline as figure 1 is. Its target is
// below figure 1's: the session's writes cost some 2 ms of CPU on SQLite and 5 ms on
// PostgreSQL (its statements through pg) over the verification's ~24 ms, measured.
import type { BareConfig } from './bare.js';
import { POST, log, type Bench } from './bench.js';
import { alternate, atLeast, expectAllOk, figure } from './figures.js';
import { TSX } from './processes.js';

type Argon2Bare = { rps: number; verifications: number; seconds: number; cpuMsPerRequest: number };

export async function signInFigure(b: Bench) {
  const { emails, password, passwordHash } = b.seeded.people;
  const url = `${b.server.url}/v1/sessions`;
  const bodies = emails.map((email) => JSON.stringify({ email, password }));
  // Twice the argon2 concurrency in connections keeps its queue fed, as the cold exchanges do.
  const job = { url, ...POST, bodies, connections: b.config.argon2.concurrency * 2, durationSeconds: b.plan.seconds };
  log(`${b.dialect}: sign-ins (${emails.length} people) vs bare argon2.verify × ${b.config.argon2.concurrency}`);
  await b.load({ ...job, durationSeconds: b.plan.warmupSeconds });
  const bareConfig: BareConfig = { secretHash: passwordHash, secret: password, concurrency: b.config.argon2.concurrency, durationSeconds: b.plan.seconds };
  const [signIns, argon2Bare] = await alternate(
    b.plan.rounds,
    () => b.load(job, b.server.pid),
    () => b.processes.runJson<Argon2Bare>([...TSX, 'scripts/bench/bare.ts', 'argon2', JSON.stringify(bareConfig)]),
  );
  b.raw.signIn = signIns;
  b.raw.signInArgon2Bare = argon2Bare;
  b.figures.push(
    figure('1b sign-in ÷ bare argon2.verify', b.dialect, signIns.rps, 'req/s', { value: argon2Bare.rps, unit: 'verify/s' }, { text: '≥ 0.8', test: atLeast(0.8) }, {
      cpu: { ours: signIns.cpuMsPerRequest, baseline: argon2Bare.cpuMsPerRequest },
      note: expectAllOk('sign-in', signIns),
    }),
  );
}
