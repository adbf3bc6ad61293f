// Option definitions and value parsers shared by the commands. A parser throws commander's
// InvalidArgumentError, which becomes one line on stderr and exit code 2.
import { InvalidArgumentError, Option } from 'commander';
import { ID_PREFIXES, isId, type IdKind } from '../domain/credentials.js';

export function jsonOption(description = 'print the result as JSON: the same objects as the HTTP API'): Option {
  return new Option('--json', description);
}

/** The "Example" section of a command's --help. */
export function example(command: string | readonly string[], ...notes: string[]): string {
  const commands = typeof command === 'string' ? [command] : command;
  return ['', commands.length > 1 ? 'Examples:' : 'Example:', ...commands.map((c) => `  $ ${c}`), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return parsed;
  };
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds from `90`, `90s`, `15m`, `24h` or `7d`, within [min, max]. */
export function duration(min: number, max: number): (value: string) => number {
  return (value) => {
    const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
    const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] || 's']! : NaN;
    if (!Number.isSafeInteger(seconds) || seconds < min || seconds > max) {
      throw new InvalidArgumentError(`expected a duration from ${min} to ${max} seconds, such as 3600, 90m, 24h or 7d`);
    }
    return seconds;
  };
}

/** An ISO 8601 date (UTC midnight) or date-time, as epoch ms. Whether it is in the future is the domain's call. */
export function isoTime(value: string): number {
  const trimmed = value.trim();
  const ms = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed) ? Date.parse(trimmed) : NaN;
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected an ISO 8601 date or time, such as 2030-01-31 or 2030-01-31T12:00:00Z');
  return ms;
}

/** Repeatable, and each value may hold several scopes separated by spaces or commas. */
export function collectScopes(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(/[\s,]+/).filter((s) => s !== '')];
}

/** Repeatable, and each value may hold several addresses or ranges separated by spaces or commas; the domain checks each. */
export function collectAddresses(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(/[\s,]+/).filter((s) => s !== '')];
}

export interface PageOptions {
  readonly limit?: number;
  readonly cursor?: string;
}

/** `--limit` and `--cursor`, as `?limit=&cursor=` on the API's lists. */
export function pageOptions(): Option[] {
  return [
    new Option('--limit <n>', 'how many to show, newest first (1-200)').argParser(wholeNumber(1, 200)).default(50),
    new Option('--cursor <cursor>', 'continue a list where the previous page ended (it prints the command)'),
  ];
}

/** An id of the given kind, or a usage error naming what was expected. */
export function idArgument(kind: IdKind): (value: string) => string {
  return (value) => {
    if (!isId(kind, value.trim())) throw new InvalidArgumentError(`expected ${ARTICLE[kind]} ${kind} id (${ID_PREFIXES[kind]}…)`);
    return value.trim();
  };
}

const ARTICLE: Record<IdKind, string> = { org: 'an', app: 'an', key: 'a', event: 'an', user: 'a', session: 'a', webhook: 'a', delivery: 'a' };

/** `--force`: the operator may remove the root org's last admin (the API never can). */
export function forceOption(): Option {
  return new Option('--force', "do it even if it removes the root organization's last active admin holding admin.orgs:full");
}
