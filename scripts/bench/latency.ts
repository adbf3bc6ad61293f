// Figure 5: whether a warm exchange slows down when the database holds a hundred times more keys.
import { sql } from 'kysely';
import { POST, coldExchanges, log, type Bench } from './bench.js';
import { atMost, expectAllOk, figure } from './figures.js';
import type { LoadJob } from './load.js';
import type { Measured } from './measure.js';
import { memoryOf } from './processes.js';
import { growKeys } from './seed.js';
import { startBenchServer } from './server.js';

/**
 * 5. Warm exchange latency, one request at a time, with 1,000 keys stored and with 100,000.
 * The large side is a second database, seeded like the first and grown to 100,000 keys,
 * served by a second server; the two are measured in alternation, `plan.latencyRounds`
 * times each after a warm-up, so a change in the machine's other load falls on both alike.
 * Each percentile counts at its lowest over the rounds (the least disturbed measure of it).
 */
export async function latencyFigure(b: Bench) {
  const { plan } = b;
  log(`${b.dialect}: a second database grown to ${plan.largeKeys} keys, and its server`);
  const twin = await startBenchServer(b, b.dialect, b.pgUrl, 'large', { working: plan.latencyKeys });
  try {
    const total = await growKeys(twin.database.handle.db, twin.seeded, plan.largeKeys);
    // Measure a database that holds 100,000 keys, not the aftermath of importing them: let
    // PostgreSQL vacuum and analyse now rather than in the middle of the run, and SQLite fold
    // the imported pages back from its write-ahead log into the database file.
    if (b.dialect === 'postgres') await sql`vacuum analyze api_keys`.execute(twin.database.handle.db);
    else await sql`pragma wal_checkpoint(truncate)`.execute(twin.database.handle.db);
    const latencyJob = (url: string, bodies: string[]): LoadJob => ({ url, ...POST, bodies, connections: 1, durationSeconds: plan.latencySeconds });
    const sides = [
      { name: 'small', pid: b.server.pid, job: latencyJob(b.tokenUrl, b.bodies.slice(0, plan.latencyKeys)), results: [] as Measured[] },
      { name: 'large', pid: twin.server.pid, job: latencyJob(twin.tokenUrl, twin.bodies), results: [] as Measured[] },
    ];
    // The twin's keys are exchanged once first (argon2), as the main server's were.
    await b.load(coldExchanges(twin.tokenUrl, twin.bodies, twin.config));
    for (const side of sides) await b.load({ ...side.job, durationSeconds: plan.warmupSeconds });
    log(`${b.dialect}: latency with ${plan.smallKeys} and ${total} keys, alternately`);
    for (let round = 0; round < plan.latencyRounds; round++) {
      for (const side of sides) side.results.push(await b.load(side.job, side.pid));
    }
    const lowestOf = (results: Measured[]) => {
      const lowest = (p: 'p50' | 'p99') => Math.min(...results.map((r) => r.latencyMs[p]));
      return { ...results[0]!, latencyMs: { ...results[0]!.latencyMs, p50: lowest('p50'), p99: lowest('p99') }, runs: results.map((r) => r.latencyMs) };
    };
    const small = lowestOf(sides[0]!.results);
    const large = lowestOf(sides[1]!.results);
    b.raw.latencySmall = small;
    b.raw.latencyLarge = { ...large, peakRssMiB: memoryOf(twin.server.pid).hwm };
    const note = expectAllOk('latency', small) ?? expectAllOk('latency', large);
    const latency = (p: 'p50' | 'p99') =>
      figure(
        `5 exchange ${p}, ${total.toLocaleString('en')} ÷ ${plan.smallKeys.toLocaleString('en')} keys`,
        b.dialect,
        large.latencyMs[p],
        'ms',
        { value: small.latencyMs[p], unit: 'ms' },
        { text: '≤ 1.2', test: atMost(1.2) },
        { note },
      );
    b.figures.push(latency('p50'), latency('p99'));
  } finally {
    await twin.stop();
  }
}
