/**
 * The compared database: seeded at a fixed size with `seedDatabase`, plus the `cmp` schema (PostGraphile's one
 * custom mutation) and the fixtures every question uses (ids, keys, time ranges), chosen by SQL from the data.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { projectRoot } from '../../src/config.js';
import { seedDatabase, type SeedOptions, type SeedSummary } from '../../src/seed/index.js';
import { dropPostgresDatabase, postgresUrlFor } from '../../tests/helpers/databases.js';
import { createBenchDatabase } from '../lib/harness.js';

export type SizeName = 'small' | 'default';

/** Fixed `now`, so every run seeds identical rows (API key secrets aside). */
export const SEED_NOW = Date.parse('2026-11-01T00:00:00.000Z');

export const SIZES: Record<SizeName, Omit<SeedOptions, 'now'>> = {
  // 200 users × 25 graphs = 5,000 graphs (1–4 versions each), 200,000 runs, ≈2,000,000 node executions.
  default: { users: 200, graphsPerUser: 25, executions: 200_000, sessions: 0, maxEventsPerSession: 1, seed: 7, days: 90 },
  // 20 users × 10 graphs, 10,000 runs, ≈100,000 node executions.
  small: { users: 20, graphsPerUser: 10, executions: 10_000, sessions: 0, maxEventsPerSession: 1, seed: 7, days: 90 },
};

/**
 * PostGraphile's `executeGraph` mutation: the current (active, else newest) version of the graph, a QUEUED run
 * and one INCOMPLETE node execution per node, in one statement (the same rows agentgraph's executeGraph writes).
 * PostgreSQL 15 has no uuidv7(): PostGraphile and the floor use gen_random_uuid() ids.
 */
export const SETUP_SQL = `
CREATE SCHEMA IF NOT EXISTS cmp;
CREATE OR REPLACE FUNCTION cmp.execute_graph(graph_id uuid, user_id uuid, inputs jsonb) RETURNS public.graph_executions
LANGUAGE sql VOLATILE AS $$
  WITH g AS (
    SELECT g.id, g.version FROM public.graphs g WHERE g.id = execute_graph.graph_id ORDER BY g.is_active DESC, g.version DESC LIMIT 1
  ), e AS (
    INSERT INTO public.graph_executions (id, graph_id, graph_version, user_id, status, inputs, updated_at)
    SELECT gen_random_uuid(), g.id, g.version, execute_graph.user_id, 'QUEUED', execute_graph.inputs, now() FROM g
    RETURNING *
  ), n AS (
    INSERT INTO public.node_executions (id, graph_execution_id, node_id, status, inputs, added_at)
    SELECT gen_random_uuid(), e.id, nd.id, 'INCOMPLETE', '{}', now()
    FROM e JOIN public.nodes nd ON nd.graph_id = e.graph_id AND nd.graph_version = e.graph_version ORDER BY nd.id
  )
  SELECT * FROM e
$$;
`;

export type Fixtures = {
  adminKey: string;
  keyOf: Record<string, string>;
  /** (b): runs with many node executions, each with its owner. */
  runs: Array<{ id: string; userId: string }>;
  /** (c): the user with the most runs, statuses and a createdAt range. */
  listing: { userId: string; statuses: string[]; from: string; to: string; pageSize: number };
  /** (d): the first 20 users by id. */
  users: string[];
  /** (e): graphs to run (with their owners) and RUNNING runs whose status the mix toggles RUNNING ↔ REVIEW. */
  writeGraphs: Array<{ id: string; userId: string }>;
  toggleRuns: Array<{ id: string; userId: string }>;
};

export type CompareDatabase = { name: string; url: string; summary: Pick<SeedSummary, 'counts'>; seedMs: number; fixtures: Fixtures; drop(): Promise<void> };

/** Where a kept database's fixtures are written (API key secrets exist nowhere else), for `--reuse-db`. */
const keptFixturesFile = (name: string) => path.join(projectRoot, 'bench', '.runtime', 'kept', `${name}.json`);

type KeptDatabase = { size: SizeName; summary: Pick<SeedSummary, 'counts'>; seedMs: number; fixtures: Fixtures };

/** Records what `reuseCompareDatabase` needs to run again on a database kept with `--keep-db`. */
export function recordKeptDatabase(cmp: CompareDatabase, size: SizeName): string {
  const file = keptFixturesFile(cmp.name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const kept: KeptDatabase = { size, summary: { counts: cmp.summary.counts }, seedMs: cmp.seedMs, fixtures: cmp.fixtures };
  fs.writeFileSync(file, JSON.stringify(kept));
  return file;
}

/**
 * A database an earlier run kept (`--keep-db`), for quicker iterations: no seeding. Question e's writes of earlier
 * runs are still in it (more runs per graph), so its figures are for comparing servers, not for the results table.
 */
export function reuseCompareDatabase(name: string): CompareDatabase & { size: SizeName } {
  const file = keptFixturesFile(name);
  if (!fs.existsSync(file)) throw new Error(`--reuse-db ${name}: no fixtures at ${file} (only databases kept by --keep-db can be reused)`);
  const kept = JSON.parse(fs.readFileSync(file, 'utf8')) as KeptDatabase;
  return {
    name,
    url: postgresUrlFor(name),
    size: kept.size,
    summary: kept.summary,
    seedMs: kept.seedMs,
    fixtures: kept.fixtures,
    async drop() {
      await dropPostgresDatabase(name);
      fs.rmSync(file, { force: true });
    },
  };
}

export async function createCompareDatabase(size: SizeName, log: (msg: string) => void): Promise<CompareDatabase> {
  const bench = await createBenchDatabase('agentgraph_cmp', 4);
  const url = `postgresql://postgres@127.0.0.1:5432/${bench.name}`;
  try {
    const started = Date.now();
    const summary = await seedDatabase(bench.db, { ...SIZES[size], now: SEED_NOW }, log);
    const seedMs = Date.now() - started;
    // bench.db (4 idle connections) stays open until drop(), which closes it.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(SETUP_SQL);
      await client.query('VACUUM ANALYZE');
      const fixtures = await chooseFixtures(client, summary);
      return { name: bench.name, url, summary, seedMs, fixtures, drop: () => bench.drop() };
    } finally {
      await client.end();
    }
  } catch (err) {
    await bench.drop().catch(() => {});
    throw err;
  }
}

async function chooseFixtures(client: pg.Client, summary: SeedSummary): Promise<Fixtures> {
  const admin = summary.apiKeys.find((k) => k.permissions.includes('ADMIN'));
  if (!admin) throw new Error('the seed made no admin key');
  const keyOf = Object.fromEntries(summary.apiKeys.map((k) => [k.userId, k.key]));
  // Non-admin owners only: the per-user questions run with the owner's own key.
  const nonAdmin = summary.apiKeys.filter((k) => !k.permissions.includes('ADMIN')).map((k) => k.userId);

  const runs = await client.query<{ id: string; userId: string }>(
    `SELECT e.id, e.user_id AS "userId" FROM graph_executions e
     WHERE NOT e.is_deleted AND e.user_id = ANY($1::uuid[]) AND e.status = 'COMPLETED'
       AND (SELECT count(*) FROM node_executions n WHERE n.graph_execution_id = e.id) >= 12
     ORDER BY e.id LIMIT 32`,
    [nonAdmin],
  );
  const top = await client.query<{ userId: string }>(
    `SELECT user_id AS "userId" FROM graph_executions WHERE user_id = ANY($1::uuid[]) GROUP BY user_id ORDER BY count(*) DESC, user_id LIMIT 1`,
    [nonAdmin],
  );
  const users = await client.query<{ id: string }>('SELECT id FROM users ORDER BY id LIMIT 20');
  const writeGraphs = await client.query<{ id: string; userId: string }>(
    `SELECT g.id, g.user_id AS "userId" FROM graphs g WHERE g.is_active AND g.user_id = ANY($1::uuid[]) ORDER BY md5(g.id::text) LIMIT 64`,
    [nonAdmin],
  );
  const toggleRuns = await client.query<{ id: string; userId: string }>(
    `SELECT id, user_id AS "userId" FROM graph_executions WHERE status = 'RUNNING' AND NOT is_deleted AND user_id = ANY($1::uuid[]) ORDER BY id`,
    [nonAdmin],
  );
  if (runs.rows.length < 8 || !top.rows[0] || toggleRuns.rows.length < 8) throw new Error('the seeded data lacks the fixtures the questions need');
  const day = 24 * 3_600_000;
  return {
    adminKey: admin.key,
    keyOf,
    runs: runs.rows,
    listing: {
      userId: top.rows[0].userId,
      statuses: ['COMPLETED', 'FAILED'],
      from: new Date(SEED_NOW - 60 * day).toISOString(),
      to: new Date(SEED_NOW - 5 * day).toISOString(),
      pageSize: 20,
    },
    users: users.rows.map((r) => r.id),
    writeGraphs: writeGraphs.rows,
    toggleRuns: toggleRuns.rows,
  };
}
