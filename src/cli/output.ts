// What the CLI prints for people: aligned tables, relative times, and colour only when
// stdout is a terminal and NO_COLOR is unset (https://no-color.org). Scripts use --json.
import type { Clock } from '../domain/clock.js';

export interface Writable {
  write(chunk: string): unknown;
}

export type Colour = 'green' | 'red' | 'yellow' | 'cyan' | 'dim' | 'bold';

const SGR: Record<Colour, [number, number]> = {
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[\d+m/g;

/** The width a string takes on a terminal (colour codes take none). */
export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

export interface Output {
  /** Writes a line (or several) to stdout. */
  line(text?: string): void;
  /** Pretty-printed JSON on stdout, for --json. */
  json(value: unknown): void;
  /** Columns aligned on the widest cell; the last column is not padded. */
  table(headers: readonly string[], rows: readonly (readonly string[])[]): void;
  paint(colour: Colour, text: string): string;
  /** "3 days ago", "in 29 days", "just now"; `never` (or the given word) for null. */
  ago(epochMs: number | null, none?: string): string;
  readonly clock: Clock;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Each unit is used while its rounded count stays below `below`; days run to 99 because
// keys expire and go stale in days ("in 90 days", "45 days ago"), not in rounded months.
const STEPS: readonly { unit: Intl.RelativeTimeFormatUnit; ms: number; below: number }[] = [
  { unit: 'second', ms: SECOND, below: 60 },
  { unit: 'minute', ms: MINUTE, below: 60 },
  { unit: 'hour', ms: HOUR, below: 24 },
  { unit: 'day', ms: DAY, below: 100 },
  { unit: 'month', ms: 30 * DAY, below: 12 },
  { unit: 'year', ms: 365 * DAY, below: Infinity },
];

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' });

export function relativeTime(epochMs: number, now: number): string {
  const diff = epochMs - now;
  const abs = Math.abs(diff);
  if (abs < 5 * SECOND) return 'just now';
  for (const step of STEPS) {
    const count = Math.round(abs / step.ms);
    if (count < step.below) return relative.format(diff < 0 ? -count : count, step.unit);
  }
  return new Date(epochMs).toISOString(); // unreachable: years have no upper bound
}

export function colourEnabled(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  const noColor = env.NO_COLOR;
  return isTTY && (noColor === undefined || noColor === '');
}

export function createOutput(options: { stdout: Writable; colour: boolean; clock: Clock }): Output {
  const { stdout, colour, clock } = options;
  const output: Output = {
    clock,
    line(text = '') {
      stdout.write(text + '\n');
    },
    json(value) {
      stdout.write(JSON.stringify(value, null, 2) + '\n');
    },
    table(headers, rows) {
      const all = [headers.map((h) => output.paint('bold', h)), ...rows];
      const widths = headers.map((_, i) => Math.max(...all.map((row) => visibleLength(row[i] ?? ''))));
      for (const row of all) {
        const cells = row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell))));
        stdout.write(cells.join('  ').trimEnd() + '\n');
      }
    },
    paint(name, text) {
      if (!colour) return text;
      const [open, close] = SGR[name];
      return `\u001b[${open}m${text}\u001b[${close}m`;
    },
    ago(epochMs, none = 'never') {
      return epochMs === null ? none : relativeTime(epochMs, clock.now());
    },
  };
  return output;
}

/** The colour of a key or signing-key state, so the eye finds what needs attention. */
export function stateColour(state: string): Colour {
  switch (state) {
    case 'active':
      return 'green';
    case 'revoked':
      return 'red';
    case 'expired':
      return 'yellow';
    case 'pending':
    case 'standby':
      return 'cyan';
    default:
      return 'dim';
  }
}

/** A new secret, once, in the environment-variable form the SDK reads, with the warning. */
export function secretBlock(output: Output, credentials: { orgId: string; keyId: string; secret: string }): void {
  output.line();
  output.line(`  SCOPE_ORG_ID=${credentials.orgId}`);
  output.line(`  SCOPE_API_KEY=${credentials.keyId}`);
  output.line(`  SCOPE_API_SECRET=${credentials.secret}`);
  output.line();
  output.line(output.paint('yellow', 'Copy the secret now: it is shown only this once and cannot be read again.'));
}

/** A list page as a table, or a sentence when it is empty, and how to get the next page. */
export function pageTable<T>(
  output: Output,
  page: { data: readonly T[]; nextCursor: string | null },
  options: { headers: readonly string[]; row: (item: T) => string[]; empty: string; next: (cursor: string) => string },
): void {
  if (page.data.length === 0) {
    output.line(options.empty);
  } else {
    output.table(options.headers, page.data.map(options.row));
  }
  if (page.nextCursor !== null) output.line(output.paint('dim', `More: ${options.next(page.nextCursor)}`));
}
