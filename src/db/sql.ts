/**
 * Raw reads straight on the driver (node-postgres or PGlite), bypassing Prisma's client pipeline. Prisma's
 * `$queryRaw` costs about twice the client CPU of the same statement on node-postgres (measured: 0.64 vs 0.31 ms
 * of CPU for a 220-row LATERAL page), which on hot read paths is most of the server's own per-statement cost.
 * Statements are still written with `Prisma.sql` (the same tagged template, parameters never spliced in).
 *
 * Type conventions of the rows (as on both drivers): timestamptz → Date, int2/int4/float8 → number, json(b) →
 * parsed value, uuid/text/enums → string. int8 and numeric come back as strings (node-postgres) or numbers /
 * bigints (PGlite): cast in SQL (`::int`, `::float8`) or convert with Number(). Arrays of enums: cast to `text[]`.
 */
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { Prisma } from '../generated/prisma/client.js';

export type QueryOptions = {
  /**
   * Plan with this statement's parameters on every call, never with a generic plan: for reads whose best plan depends
   * on how much data the parameters select (statistics, filtered lists). On PostgreSQL the statement is still named
   * (parsed once per connection) but runs on sessions with `plan_cache_mode = force_custom_plan`.
   */
  planPerCall?: boolean;
  /** false: an unnamed statement, parsed and planned for this call only (one-off statements such as DDL). */
  prepare?: boolean;
  /**
   * 'statistics': a long aggregate over a time range. On PostgreSQL it runs on sessions of its own (planned per call),
   * so that many of them at once queue behind each other instead of taking the connections lists and writes need.
   */
  workload?: 'statistics';
  /** Not reported to the statement listener (background work: see Database.backgroundSql). */
  unobserved?: boolean;
};

export type SqlRunner = {
  /** Runs one parameterized statement and returns its rows. */
  query<Row>(statement: Prisma.Sql, options?: QueryOptions): Promise<Row[]>;
};

/** The largest LIMIT written into a statement's text (pages hold at most 100 rows, plus one). */
const MAX_LIMIT_LITERAL = 1000;

/**
 * A page's LIMIT written into the statement as a literal, not a parameter. With `LIMIT $n` PostgreSQL's generic plan
 * for a prepared statement guesses the row count, costs more than the custom plans, and so is never chosen: the
 * statement is planned again on every execution. Measured on the dashboard read (20 graphs, each with its 10 latest
 * runs as a JSON column): 0.45 ms per execution with parameter limits, 0.27 ms with literal ones. Page sizes are few
 * (1 to 100, plus one), so the statement texts stay few too.
 */
export function limitLiteral(rows: number): Prisma.Sql {
  if (!Number.isSafeInteger(rows) || rows < 0 || rows > MAX_LIMIT_LITERAL) throw new RangeError(`A statement's LIMIT must be a whole number from 0 to ${MAX_LIMIT_LITERAL}, got ${rows}.`);
  return Prisma.raw(String(rows));
}

/** Distinct statement texts given a prepared-statement name; beyond it (never in practice) statements run unnamed. */
const MAX_PREPARED = 500;

export type StatementListener = (event: { query: string; durationMs: number }) => void;

/**
 * On PostgreSQL, statements run as named prepared statements (one name per distinct text, prepared once per
 * connection by node-postgres): the server parses them once and may reuse a generic plan, instead of parsing and
 * planning the same text on every request — measured +54 % requests/s on a one-statement read of a run with its
 * node executions (a LATERAL JSON page). Statements `planPerCall` go to `perCallPlanPool`, whose sessions force
 * custom plans: a filtered run list costs PostgreSQL 0.35 ms of CPU there, 0.51 ms unnamed, and 1.1 ms with the
 * generic plan it would otherwise settle on; planning the large LATERAL read on every call instead would double its
 * cost (0.36 → 0.75 ms), hence two kinds of sessions rather than one setting for all.
 */
export function postgresSqlRunner(
  pools: { pool: pg.Pool; perCallPlanPool: pg.Pool | null; statisticsPool?: pg.Pool | null },
  notify: StatementListener,
  options: { prepared: boolean } = { prepared: true },
): SqlRunner {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (!name && names.size < MAX_PREPARED) names.set(text, (name = `agentgraph_${names.size}`));
    return name;
  };
  return {
    async query<Row>(statement: Prisma.Sql, queryOptions?: QueryOptions) {
      const started = performance.now();
      const perCall = queryOptions?.planPerCall === true;
      // Without sessions that force custom plans, a statement planned per call can only be an unnamed one.
      const named = options.prepared && queryOptions?.prepare !== false && (!perCall || pools.perCallPlanPool !== null);
      const pool = queryOptions?.workload === 'statistics' && named && pools.statisticsPool ? pools.statisticsPool : perCall && named ? pools.perCallPlanPool! : pools.pool;
      const result = await pool.query({ name: named ? nameOf(statement.text) : undefined, text: statement.text, values: statement.values as unknown[] });
      if (!queryOptions?.unobserved) notify({ query: statement.text, durationMs: performance.now() - started });
      return result.rows as Row[];
    },
  };
}

export function pgliteSqlRunner(pglite: PGlite, notify: StatementListener): SqlRunner {
  return {
    async query<Row>(statement: Prisma.Sql, queryOptions?: QueryOptions) {
      const started = performance.now();
      const result = await pglite.query<Row>(statement.text, statement.values as unknown[]);
      if (!queryOptions?.unobserved) notify({ query: statement.text, durationMs: performance.now() - started });
      return result.rows;
    },
  };
}
