// http_request_duration_seconds: how long every request took to answer, by method, route
// template (`/v1/apps/:app_id`, never the path with its ids) and status class (`2xx`).
// Requests on no known path share one route value, `unmatched`, so a scan of random paths
// adds one series, not one per path.
//
// Recorded by hand rather than with prom-client's Histogram, whose observe() measured
// 0.55 µs a call (it builds, validates and hashes a label object and finds its bucket by a
// string key every time): nearly 2 % of a JWKS answer (0.03 ms of CPU under `npm run bench`),
// the server's cheapest and most frequent. Here an observation is two array indexes, a Map
// lookup by the route string and a walk over 14 bounds: 13–16 ns, measured the same way. The
// text is written in the Prometheus exposition format when /metrics is read.
import type { ServerResponse } from 'node:http';

export const REQUEST_DURATION_METRIC = 'http_request_duration_seconds';

/** Seconds; from a fraction of a millisecond (the JWKS, a warm exchange) to a queued argon2 exchange. */
const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'other'] as const;
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
export const UNMATCHED_ROUTE = 'unmatched';

const ROUTE = Symbol('route template');
type RoutedResponse = ServerResponse & { [ROUTE]?: string };

/** Names the route template that answers `res` (its known path); a response never named counts as `unmatched`. */
export function setRouteTemplate(res: ServerResponse, template: string): void {
  (res as RoutedResponse)[ROUTE] = template;
}

function methodIndex(method: string | undefined): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'PATCH':
      return 4;
    case 'DELETE':
      return 5;
    case 'OPTIONS':
      return 6;
    default:
      // Any token is a valid method: one value for the rest keeps the series bounded.
      return 7;
  }
}

function statusClassIndex(status: number): number {
  const index = Math.floor(status / 100) - 1;
  return index < 0 ? 0 : index > 4 ? 4 : index;
}

interface Series {
  readonly labels: string;
  /** Observations per bound, not cumulative; the last slot is above every bound (+Inf). */
  readonly counts: Float64Array;
  sum: number;
}

export interface RequestDurations {
  /** Records one answered request. */
  observe(method: string | undefined, res: ServerResponse, seconds: number): void;
  /** The metric in the Prometheus text format, ending with a newline. */
  render(): string;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function createRequestDurations(): RequestDurations {
  const slots = METHODS.length * STATUS_CLASSES.length;
  // Per route template, a slot per (method, status class), made on first use.
  const byRoute = new Map<string, (Series | undefined)[]>();

  function newSeries(route: string, slot: number): Series {
    const method = METHODS[Math.floor(slot / STATUS_CLASSES.length)]!;
    const statusClass = STATUS_CLASSES[slot % STATUS_CLASSES.length]!;
    const labels = `method="${method}",route="${escapeLabel(route)}",status_class="${statusClass}"`;
    return { labels, counts: new Float64Array(BOUNDS.length + 1), sum: 0 };
  }

  return {
    observe(method, res, seconds) {
      const route = (res as RoutedResponse)[ROUTE] ?? UNMATCHED_ROUTE;
      let series = byRoute.get(route);
      if (series === undefined) {
        series = new Array<Series | undefined>(slots).fill(undefined);
        byRoute.set(route, series);
      }
      const slot = methodIndex(method) * STATUS_CLASSES.length + statusClassIndex(res.statusCode);
      const one = (series[slot] ??= newSeries(route, slot));
      let bucket = 0;
      while (bucket < BOUNDS.length && seconds > BOUNDS[bucket]!) bucket++;
      one.counts[bucket]!++;
      one.sum += seconds;
    },
    render() {
      const name = REQUEST_DURATION_METRIC;
      const lines = [
        `# HELP ${name} Time to answer a request, by method, route template (unmatched: no known path) and status class`,
        `# TYPE ${name} histogram`,
      ];
      const routes = [...byRoute.keys()].sort();
      for (const route of routes) {
        for (const series of byRoute.get(route)!) {
          if (series === undefined) continue;
          let cumulative = 0;
          for (let i = 0; i < BOUNDS.length; i++) {
            cumulative += series.counts[i]!;
            lines.push(`${name}_bucket{${series.labels},le="${BOUNDS[i]}"} ${cumulative}`);
          }
          cumulative += series.counts[BOUNDS.length]!;
          lines.push(`${name}_bucket{${series.labels},le="+Inf"} ${cumulative}`);
          lines.push(`${name}_sum{${series.labels}} ${series.sum}`);
          lines.push(`${name}_count{${series.labels}} ${cumulative}`);
        }
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
