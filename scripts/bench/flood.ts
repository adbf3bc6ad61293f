// Figures 8 and 9: the token endpoint under abuse, on a server of their own.
//
// 8. An argon2 flood from many addresses against one legitimate client from its own: what
//    share of its cold exchanges succeed, and how long they take — the argon2 queue's fairness.
// 9. Whether the timing of a refusal tells that a key id exists: the median time to refuse an
//    unknown key id against that of a wrong secret for a real one.
//
// The server's brute-force throttle would otherwise stop a flood of wrong secrets long before
// it fills the argon2 queue (100 failures a minute per address), and stop the timing figure's
// repeated wrong secrets for one key after 10: its limits are raised to their maximum here,
// and the flood is spread over many key ids as well, so what is measured is the queue.
import { generateSecret, newId } from '../../src/domain/credentials.js';
import type { SourcesJob, SourcesResult, TagResult } from './address-load.js';
import { log, type Bench } from './bench.js';
import { atLeast, atMost, figure } from './figures.js';
import { startBenchServer } from './server.js';

/** The server's environment for these figures (and the figures' notes say so). */
const ABUSE_ENV = { SCOPE_AUTH_THROTTLE_IP_FAILURES: '1000000', SCOPE_AUTH_THROTTLE_KEY_FAILURES: '1000000' };
const RAISED = 'throttle limits raised to 1,000,000 a minute (SCOPE_AUTH_THROTTLE_IP_FAILURES, _KEY_FAILURES) so that wrong secrets reach argon2';

/** 127.0.0.2 … 127.0.0.61: the flood's addresses, two connections each. */
const FLOOD_SOURCES = Array.from({ length: 60 }, (_, i) => `127.0.0.${i + 2}`);
const FLOOD_CONNECTIONS = 2;
/** Real key ids the flood sends wrong secrets for; each address starts at another one. */
const FLOOD_KEYS = 240;
const CLIENT_ADDRESS = '127.0.0.62';
const TIMING_ADDRESS = '127.0.0.63';
/** Seconds the flood runs before the client starts, so that the queue is full when it does. */
const FLOOD_LEAD_SECONDS = 2;

const statusText = (t: TagResult | undefined) =>
  t ? Object.entries(t.statuses).map(([status, n]) => `${n}× ${status}`).join(', ') + (t.errors ? `, ${t.errors} errors` : '') : 'no responses';

export async function abuseFigures(b: Bench, phases: { flood: boolean; timing: boolean }) {
  const { plan } = b;
  log(`${b.dialect}: a server for the abuse figures (${RAISED})`);
  const server = await startBenchServer(b, b.dialect, b.pgUrl, 'abuse', { working: plan.floodExchanges + FLOOD_KEYS }, ABUSE_ENV);
  try {
    const keys = server.seeded.workingKeys;
    const wrongSecret = generateSecret(); // well-formed, checksum and all: only argon2 tells it is wrong
    const body = (keyId: string, secret: string) => JSON.stringify({ org_id: server.seeded.orgId, key_id: keyId, secret });
    const wrongBodies = keys.slice(plan.floodExchanges).map((keyId) => body(keyId, wrongSecret));
    const clientBodies = keys.slice(0, plan.floodExchanges).map((keyId) => body(keyId, server.seeded.secret));
    const sources = (job: Omit<SourcesJob, 'kind' | 'url'>) => b.sources({ kind: 'sources', url: server.tokenUrl, ...job });

    if (phases.timing) {
      // 9. One request at a time from one address, an unknown key id and a wrong secret in turn.
      const requests = (n: number) =>
        Array.from({ length: n }, (_, i) => [
          { tag: 'unknown', body: body(newId('key', Date.now() - i), wrongSecret) },
          { tag: 'wrong', body: wrongBodies[i % wrongBodies.length]! },
        ]).flat();
      const timingJob = (n: number) => ({ groups: [{ localAddress: TIMING_ADDRESS, connections: 1, requests: requests(n), once: true }], leadSeconds: 0, maxSeconds: 120 });
      log(`${b.dialect}: refusal timing, ${plan.timingRequests} unknown key ids and ${plan.timingRequests} wrong secrets in turn`);
      // The warm-up also lets the server time some verifications: its estimate is a moving average.
      await sources(timingJob(40));
      const timing = await sources(timingJob(plan.timingRequests));
      b.raw.timing = timing;
      const unknown = timing.tags.unknown;
      const wrong = timing.tags.wrong;
      const allRefused = unknown?.statuses['401'] === plan.timingRequests && wrong?.statuses['401'] === plan.timingRequests;
      b.figures.push(
        figure('9 refusal p50, unknown key ÷ wrong secret', b.dialect, unknown?.latencyMs.p50 ?? NaN, 'ms', { value: wrong?.latencyMs.p50 ?? NaN, unit: 'ms' }, { text: '0.8–1.2', test: (r) => r >= 0.8 && r <= 1.2 }, {
          note:
            `p99 ${unknown?.latencyMs.p99.toFixed(1)} ms unknown, ${wrong?.latencyMs.p99.toFixed(1)} ms wrong secret; ${RAISED}` +
            (allRefused ? '' : `; expected 401 to all: unknown ${statusText(unknown)}; wrong ${statusText(wrong)}`),
        }),
      );
    }

    if (phases.flood) {
      // 8. The flood, then the client's cold exchanges (fresh keys, the right secret) while it goes on.
      const flood = FLOOD_SOURCES.map((localAddress, s) => ({
        localAddress,
        connections: FLOOD_CONNECTIONS,
        requests: Array.from({ length: 60 }, (_, i) => ({ tag: 'flood', body: wrongBodies[(s * 4 + i) % wrongBodies.length]! })),
      }));
      const client = { localAddress: CLIENT_ADDRESS, connections: 1, requests: clientBodies.map((text) => ({ tag: 'client', body: text })), once: true };
      log(`${b.dialect}: ${plan.floodExchanges} cold exchanges from ${CLIENT_ADDRESS} under a flood of wrong secrets from ${FLOOD_SOURCES.length} addresses × ${FLOOD_CONNECTIONS}`);
      const result: SourcesResult = await sources({ groups: [...flood, client], leadSeconds: FLOOD_LEAD_SECONDS, maxSeconds: FLOOD_LEAD_SECONDS + plan.floodExchanges * 3 + 10 });
      b.raw.flood = result;
      const mine = result.tags.client;
      const succeeded = ((mine?.statuses['200'] ?? 0) / plan.floodExchanges) * 100;
      const floodNote = `flood: ${statusText(result.tags.flood)} in ${result.seconds.toFixed(0)} s; ${RAISED}`;
      b.figures.push(
        figure('8 cold exchanges under an argon2 flood, succeeded', b.dialect, succeeded, '%', null, { text: '≥ 95 %', test: atLeast(95) }, {
          note: `client: ${statusText(mine)}${result.unsent ? `, ${result.unsent} not sent in time` : ''}; ${floodNote}`,
        }),
        figure('8 cold exchange p99 under an argon2 flood', b.dialect, mine?.latencyMs.p99 ?? NaN, 'ms', null, { text: '≤ 2000 ms', test: atMost(2000) }, {
          note: `p50 ${mine?.latencyMs.p50.toFixed(0)} ms, max ${mine?.latencyMs.max.toFixed(0)} ms, every response counted`,
        }),
      );
    }
  } finally {
    await server.stop();
  }
}
