// A Kysely that can also run a hot-path read as a statement prepared once, and batch the
// reads by id that arrive in one turn of the event loop. The dialect modules (sqlite.ts,
// postgres.ts) say how a statement is prepared; nothing else knows.
import { CompiledQuery, Kysely, type KyselyConfig } from 'kysely';
import type { Database } from './schema.js';

/** A read compiled once and run as a prepared statement; see {@link PreparingDb}. */
export interface PreparedRead<Row> {
  all(parameters: readonly unknown[]): Promise<Row[]>;
}

/** Rows by id, read in batches; see {@link PreparingDb.batched}. */
export interface BatchedRead<Row> {
  get(id: string): Promise<Row | undefined>;
}

/** The most ids one batched read asks for; more are split into several reads. */
const MAX_BATCH = 32;

export type Prepare = (db: Kysely<Database>, name: string, query: CompiledQuery) => PreparedRead<unknown>;

/**
 * The Db that createDatabase returns: a Kysely that can also run a hot-path read as a
 * statement prepared once — better-sqlite3 `prepare`d once; on PostgreSQL a named statement,
 * parsed and planned once per pooled connection — skipping kysely's builder, compiler and
 * per-call prepare. A Transaction (or any other Kysely) is not one, so code that receives a
 * plain Db falls back to the kysely query and stays inside the caller's transaction.
 */
export class PreparingDb extends Kysely<Database> {
  readonly #prepare: Prepare;
  readonly #reads = new Map<string, PreparedRead<unknown>>();
  readonly #batched = new Map<string, BatchedRead<unknown>>();

  constructor(config: KyselyConfig, prepare: Prepare) {
    super(config);
    this.#prepare = prepare;
  }

  /** The read named `name`, compiled by `build` on first use; a name must always stand for the same query. */
  prepared<Row>(name: string, build: () => CompiledQuery<Row>): PreparedRead<Row> {
    let read = this.#reads.get(name);
    if (read === undefined) {
      read = this.#prepare(this, name, build());
      this.#reads.set(name, read);
    }
    return read as PreparedRead<Row>;
  }

  /**
   * Rows by id, where every id asked for in the same turn of the event loop is read by one
   * query: `build(n)` compiles the query for n ids (`where id in (?, …)`, prepared once per
   * n). Under load, requests that arrive together share one statement — on PostgreSQL one
   * round trip instead of one per request. Each read still happens after it was asked for,
   * so it sees every change committed before that.
   */
  batched<Row extends { id: string }>(name: string, build: (count: number) => CompiledQuery<Row>): BatchedRead<Row> {
    let batcher = this.#batched.get(name) as BatchedRead<Row> | undefined;
    if (batcher === undefined) {
      batcher = new IdBatcher<Row>((ids) => this.prepared(`${name}_${ids.length}`, () => build(ids.length)).all(ids));
      this.#batched.set(name, batcher);
    }
    return batcher;
  }
}

interface Waiter<Row> {
  resolve(row: Row | undefined): void;
  reject(error: unknown): void;
}

/** Collects ids until the event loop's check phase (after the I/O callbacks of this turn), then reads them. */
class IdBatcher<Row extends { id: string }> implements BatchedRead<Row> {
  #waiting = new Map<string, Waiter<Row>[]>();
  #scheduled = false;

  constructor(private readonly read: (ids: string[]) => Promise<Row[]>) {}

  get(id: string): Promise<Row | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.#waiting.get(id);
      if (waiters === undefined) this.#waiting.set(id, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    const waiting = this.#waiting;
    this.#waiting = new Map();
    this.#scheduled = false;
    const ids = [...waiting.keys()];
    for (let start = 0; start < ids.length; start += MAX_BATCH) void this.#answer(ids.slice(start, start + MAX_BATCH), waiting);
  }

  async #answer(ids: string[], waiting: Map<string, Waiter<Row>[]>): Promise<void> {
    try {
      const rows = await this.read(ids);
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const id of ids) for (const waiter of waiting.get(id)!) waiter.resolve(byId.get(id));
    } catch (error) {
      for (const id of ids) for (const waiter of waiting.get(id)!) waiter.reject(error);
    }
  }
}
