// The load generator, run as its own process so its CPU use is not the server's: reads jobs
// as JSON lines on stdin, drives each URL with autocannon in turn (or, for a job from many
// client addresses, with address-load.ts), and answers each job with
// one JSON result line on stdout. Latencies are taken from autocannon's per-response event in fractional
// milliseconds (its own histogram has 1 ms resolution, too coarse for sub-millisecond figures).
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { runSources, type SourcesJob } from './address-load.js';

export interface LoadJob {
  readonly url: string;
  /**
   * Several servers at once, in place of `url`: one autocannon each, all in this one
   * process (so the load generator costs what it costs against one server), the
   * connections shared evenly among them. Each is sent the bodies in turn from the first,
   * and `amount` requests when set. The result adds them up; `parts` has each one's.
   */
  readonly urls?: readonly string[];
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
  /** With `urls`: the result of each, in their order. */
  readonly parts?: readonly LoadResult[];
}

/** What one autocannon saw. */
interface Drive {
  readonly latencies: number[];
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly called: bigint;
  readonly firstSent: bigint | undefined;
  readonly lastResponse: bigint;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function drive(job: LoadJob, url: string, connections: number): Promise<Drive> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let next = 0;
  const bodies = job.bodies;
  const options: autocannon.Options = {
    url,
    method: job.method,
    connections,
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
  return { latencies, statuses, errors, called, firstSent, lastResponse };
}

/** One result of drives that ran together: from the first request sent by any to the last response to any. */
function summarize(drives: readonly Drive[]): LoadResult {
  const latencies = drives.flatMap((d) => d.latencies).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const d of drives) for (const [status, n] of Object.entries(d.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  const min = (values: bigint[]) => values.reduce((a, b) => (b < a ? b : a));
  const start = min(drives.map((d) => d.firstSent ?? d.called));
  const end = drives.map((d) => d.lastResponse).reduce((a, b) => (b > a ? b : a));
  const seconds = Number(end - start) / 1e9;
  const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    requests,
    statuses,
    errors: drives.reduce((sum, d) => sum + d.errors, 0),
    seconds,
    rps: latencies.length / seconds,
    latencyMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    },
  };
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  if (!job.urls) return summarize([await drive(job, job.url, job.connections)]);
  const urls = job.urls;
  const share = (i: number) => Math.floor(job.connections / urls.length) + (i < job.connections % urls.length ? 1 : 0);
  const drives = await Promise.all(urls.map((url, i) => drive(job, url, share(i))));
  return { ...summarize(drives), parts: drives.map((d) => summarize([d])) };
}

// Only ever run as a script; run.ts imports the types alone (`import type`), which loads nothing.
// A job from many client addresses (address-load.ts) says so by its `kind`.
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const job = JSON.parse(line) as LoadJob | SourcesJob;
  const result = 'kind' in job ? await runSources(job) : await runLoad(job);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
