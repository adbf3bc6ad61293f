// Load from many client addresses, for the figures about who gets served under abuse: run in
// the load-generator process (load.ts) like autocannon's jobs, but with node's own http client,
// because autocannon cannot bind a connection's local address. Every connection of a group
// is bound to the group's loopback address (on Linux all of 127.0.0.0/8 is loopback, so
// 127.0.0.2, 127.0.0.3… are as many clients to the server, with no setup); traffic goes to
// the job's URL on 127.0.0.1 only. Unlike the autocannon jobs, a latency is kept for every
// response, whatever its status, by the tag of the request that got it.
import http from 'node:http';

export interface SourcesJob {
  readonly kind: 'sources';
  /** POSTed to, with `content-type: application/json`. */
  readonly url: string;
  readonly groups: readonly SourceGroup[];
  /** Seconds the endless groups run before the counted ones start (so a flood is in full swing). */
  readonly leadSeconds: number;
  /** Everything stops this many seconds after the start, done or not. */
  readonly maxSeconds: number;
}

export interface SourceGroup {
  /** The local address every connection of the group is bound to. */
  readonly localAddress: string;
  /** Requests in flight at once, each on a keep-alive connection of its own. */
  readonly connections: number;
  /**
   * Sent in turn. Counted (`once`): each exactly once, starting after `leadSeconds`, and the
   * job ends when every counted group is done. Otherwise over and over until then.
   */
  readonly requests: readonly { readonly tag: string; readonly body: string }[];
  readonly once?: boolean;
}

export interface TagResult {
  readonly requests: number;
  readonly statuses: Record<string, number>;
  /** Requests that got no response (connection refused or reset, or 30 s without an answer). */
  readonly errors: number;
  /** Of every response, in ms. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
}

export interface SourcesResult {
  readonly seconds: number;
  readonly tags: Record<string, TagResult>;
  /** Requests of counted groups never sent because `maxSeconds` ran out. */
  readonly unsent: number;
}

const TIMEOUT_MS = 30_000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** One POST on `agent`'s connections; resolves to the status, or null when no response came. */
function post(url: URL, agent: http.Agent, localAddress: string, body: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? null));
        res.once('error', () => resolve(null));
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(null));
    req.end(body);
  });
}

export async function runSources(job: SourcesJob): Promise<SourcesResult> {
  const url = new URL(job.url);
  const latencies = new Map<string, number[]>();
  const statuses = new Map<string, Record<string, number>>();
  const errors = new Map<string, number>();
  const started = performance.now();
  const deadline = started + job.maxSeconds * 1000;
  let countedLeft = job.groups.filter((g) => g.once).length;
  let stopped = false;
  let unsent = 0;
  const stopTimer = setTimeout(() => (stopped = true), job.maxSeconds * 1000);

  function record(tag: string, status: number | null, ms: number) {
    if (status === null) {
      errors.set(tag, (errors.get(tag) ?? 0) + 1);
      return;
    }
    let byStatus = statuses.get(tag);
    if (!byStatus) statuses.set(tag, (byStatus = {}));
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    let list = latencies.get(tag);
    if (!list) latencies.set(tag, (list = []));
    list.push(ms);
  }

  async function runGroup(group: SourceGroup) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: group.connections });
    let next = 0;
    const take = () => {
      if (stopped || performance.now() > deadline) return undefined;
      if (group.once) return next < group.requests.length ? group.requests[next++] : undefined;
      return group.requests[next++ % group.requests.length];
    };
    const worker = async () => {
      for (let request = take(); request !== undefined; request = take()) {
        const sent = performance.now();
        const status = await post(url, agent, group.localAddress, request.body);
        record(request.tag, status, performance.now() - sent);
      }
    };
    if (group.once) await new Promise((resolve) => setTimeout(resolve, job.leadSeconds * 1000));
    await Promise.all(Array.from({ length: group.connections }, worker));
    agent.destroy();
    if (group.once) {
      unsent += group.requests.length - next;
      if (--countedLeft === 0) stopped = true;
    }
  }

  await Promise.all(job.groups.map(runGroup));
  clearTimeout(stopTimer);
  const tags: Record<string, TagResult> = {};
  for (const tag of new Set([...statuses.keys(), ...errors.keys()])) {
    const sorted = (latencies.get(tag) ?? []).sort((a, b) => a - b);
    const byStatus = statuses.get(tag) ?? {};
    const tagErrors = errors.get(tag) ?? 0;
    tags[tag] = {
      requests: Object.values(byStatus).reduce((a, b) => a + b, 0) + tagErrors,
      statuses: byStatus,
      errors: tagErrors,
      latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN },
    };
  }
  return { seconds: (performance.now() - started) / 1000, tags, unsent };
}
