// A figure is one row of the report: what was measured, against which baseline, the ratio
// and its target. Also how runs are compared (`alternate`, `best`) and the table printed.
import type { Dialect } from '../../src/store/database.js';
import type { LoadResult } from './load.js';

export interface Figure {
  readonly figure: string;
  readonly dialect: Dialect | 'any';
  readonly measured: number;
  readonly baseline: number | null;
  readonly unit: string;
  readonly baselineUnit: string | null;
  /** measured ÷ baseline, or the measured value itself when there is no baseline. */
  readonly ratio: number;
  readonly target: string;
  /** null for an informational row. */
  readonly pass: boolean | null;
  /** Baseline CPU per request ÷ ours: the same comparison by CPU use, less sensitive to other load on the machine. */
  readonly cpuRatio: number | null;
  readonly note?: string;
}

export const atLeast = (limit: number) => (ratio: number) => ratio >= limit;
export const atMost = (limit: number) => (ratio: number) => ratio <= limit;

export function figure(
  name: string,
  dialect: Dialect | 'any',
  measured: number,
  unit: string,
  baseline: { value: number; unit: string } | null,
  target: { text: string; test: ((ratio: number) => boolean) | null },
  extra: { cpu?: { ours: number; baseline: number }; note?: string | undefined } = {},
): Figure {
  const ratio = baseline ? measured / baseline.value : measured;
  return {
    figure: name,
    dialect,
    measured,
    baseline: baseline?.value ?? null,
    unit,
    baselineUnit: baseline?.unit ?? null,
    ratio,
    target: target.text,
    pass: target.test ? target.test(ratio) : null,
    cpuRatio: extra.cpu ? extra.cpu.baseline / extra.cpu.ours : null,
    ...(extra.note ? { note: extra.note } : {}),
  };
}

/** A note (also written to stderr at once) when any response was not a 2xx, or a request failed. */
export function expectAllOk(what: string, result: LoadResult): string | undefined {
  const bad = Object.entries(result.statuses).filter(([status]) => !status.startsWith('2'));
  if (bad.length === 0 && result.errors === 0) return undefined;
  const detail = `${what}: ${bad.map(([s, n]) => `${n}× ${s}`).join(', ')}${result.errors ? `, ${result.errors} errors` : ''}`;
  process.stderr.write(`warning: ${detail}\n`);
  return detail;
}

/**
 * The best of several runs: the highest throughput, and the lowest CPU per request (which
 * need not come from the same run; both are the least disturbed measure of their kind).
 */
export function best<T extends { rps: number; cpuMsPerRequest: number }>(runs: readonly T[]): T & { runs: number[] } {
  const top = runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  const cpuMsPerRequest = Math.min(...runs.map((r) => r.cpuMsPerRequest).filter((cpu) => Number.isFinite(cpu)));
  return { ...top, cpuMsPerRequest: Number.isFinite(cpuMsPerRequest) ? cpuMsPerRequest : top.cpuMsPerRequest, runs: runs.map((r) => Number(r.rps.toFixed(1))) };
}

/** Runs ours and the baseline in turn, `rounds` times (the plan's). */
export async function alternate<A extends { rps: number; cpuMsPerRequest: number }, B extends { rps: number; cpuMsPerRequest: number }>(
  rounds: number,
  ours: (round: number) => Promise<A>,
  baseline: (round: number) => Promise<B>,
) {
  const a: A[] = [];
  const b: B[] = [];
  for (let round = 0; round < rounds; round++) {
    a.push(await ours(round));
    b.push(await baseline(round));
  }
  return [best(a), best(b)] as const;
}

function format(value: number, unit: string): string {
  if (unit === 'ms') return `${value.toFixed(2)} ms`;
  if (unit === 'MiB') return `${value.toFixed(0)} MiB`;
  if (unit === 'CPU ms') return `${value.toFixed(3)} CPU ms`;
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${unit}`;
}

export function table(figures: readonly Figure[]): string {
  const header = ['figure', 'db', 'measured', 'baseline', 'ratio', 'target', 'result', 'ratio by CPU'];
  const rows = figures.map((f) => [
    f.figure,
    f.dialect,
    format(f.measured, f.unit),
    f.baseline === null ? '—' : format(f.baseline, f.baselineUnit ?? ''),
    f.baseline === null ? '—' : f.ratio.toFixed(3),
    f.target,
    f.pass === null ? '—' : f.pass ? 'pass' : 'FAIL',
    f.cpuRatio === null ? '—' : f.cpuRatio.toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
