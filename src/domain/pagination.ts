// Cursor pagination for every admin list. Ids are time-sortable ULIDs, so "newest first"
// is "id descending" and the cursor is the last id of a page, encoded so callers treat it
// as opaque (we may change what is inside without breaking them).
import { InvalidRequestError } from '../errors.js';

export const PAGE_LIMIT_DEFAULT = 50;
export const PAGE_LIMIT_MAX = 200;

export interface PageInput {
  /** 1–200; default 50. */
  readonly limit?: number;
  /** The `next_cursor` of the previous page. */
  readonly cursor?: string | null;
}

export interface Page<T> {
  readonly data: T[];
  /** Null on the last page. */
  readonly nextCursor: string | null;
}

/** What a store list query needs: ids strictly below `before`, at most `limit + 1` rows. */
export interface PageQuery {
  readonly limit: number;
  readonly before: string | null;
}

const CURSOR_PREFIX = 'c1:';
const ID_SHAPE = /^[a-z]{3}_[0-9A-HJKMNP-TV-Z]{26}$/;

export function encodeCursor(lastId: string): string {
  return Buffer.from(CURSOR_PREFIX + lastId, 'utf8').toString('base64url');
}

/** Throws InvalidRequestError for anything that is not a cursor this server issued. */
export function decodeCursor(cursor: string): string {
  const decoded = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const id = decoded.startsWith(CURSOR_PREFIX) ? decoded.slice(CURSOR_PREFIX.length) : '';
  if (!ID_SHAPE.test(id)) throw new InvalidRequestError('cursor: not a cursor returned by this list');
  return id;
}

/** Validates the page input (the CLI calls the domain without the route's schema). */
export function pageQuery(input: PageInput): PageQuery {
  const limit = input.limit ?? PAGE_LIMIT_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_LIMIT_MAX) {
    throw new InvalidRequestError(`limit: expected a whole number from 1 to ${PAGE_LIMIT_MAX}`);
  }
  const cursor = input.cursor ?? null;
  return { limit, before: cursor === null ? null : decodeCursor(cursor) };
}

/** Turns the `limit + 1` rows a store query returned into a page. */
export function toPage<R extends { id: string }, T>(rows: readonly R[], query: PageQuery, map: (row: R) => T): Page<T> {
  const more = rows.length > query.limit;
  const kept = more ? rows.slice(0, query.limit) : rows;
  const last = kept[kept.length - 1];
  return { data: kept.map(map), nextCursor: more && last ? encodeCursor(last.id) : null };
}
