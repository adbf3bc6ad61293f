// The load generator, run as its own process so its CPU use is not the server's: reads jobs
// as JSON lines on stdin, drives each URL with autocannon in turn, and answers each job with
// one JSON result line on stdout. Latencies are taken from autocannon's per-response event in fractional
// milliseconds (its own histogram has 1 ms resolution, too coarse for sub-millisecond figures).
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

export interface LoadJob {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  /** Request bodies, used in turn (each exactly once when `amount` equals their number). */
  readonly bodies?: readonly string[];
  readonly connections: number;
  /** Stop after this many seconds… */
  readonly durationSeconds?: number;
  /** …or after this many requests. */
  readonly amount?: number;
}

export interface LoadResult {
  readonly requests: number;
  /** Responses by status code. */
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly seconds: number;
  /** 2xx responses per second of wall time. */
  readonly rps: number;
  /** Of 2xx responses, in ms. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly mean: number };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const bodies = job.bodies;
  const options: autocannon.Options = {
    url: job.url,
    method: job.method,
    connections: job.connections,
    timeout: 30,
    ...(job.headers ? { headers: job.headers } : {}),
    ...(job.amount !== undefined ? { amount: job.amount } : { duration: job.durationSeconds ?? 5 }),
    ...(bodies && bodies.length > 0
      ? {
          requests: [
            {
              setupRequest: (request: autocannon.Request) => ({ ...request, body: bodies[next++ % bodies.length]! }),
            },
          ],
        }
      : {}),
  };
  // The run starts when the first request is sent, not when autocannon is called: its own
  // start (histograms, connections) is not the server's work, and in a run of a couple of
  // seconds it weighed a few per cent. autocannon notices that `amount` requests are done
  // only at its next one-second tick, so the run ends at the last response, not when
  // autocannon returns.
  const called = process.hrtime.bigint();
  let firstSent: bigint | undefined;
  let lastResponse = called;
  await new Promise<void>((resolve, reject) => {
    const instance = autocannon(options, (error) => (error ? reject(error) : resolve()));
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      lastResponse = process.hrtime.bigint();
      const sent = lastResponse - BigInt(Math.round(responseTime * 1e6));
      if (firstSent === undefined || sent < firstSent) firstSent = sent;
    });
    instance.on('reqError', () => {
      errors++;
    });
  });
  const seconds = Number(lastResponse - (firstSent ?? called)) / 1e9;
  latencies.sort((a, b) => a - b);
  const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    requests,
    statuses,
    errors,
    seconds,
    rps: latencies.length / seconds,
    latencyMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    },
  };
}

// Only ever run as a script; run.ts imports the types alone (`import type`), which loads nothing.
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  process.stdout.write(`${JSON.stringify(await runLoad(JSON.parse(line) as LoadJob))}\n`);
}
