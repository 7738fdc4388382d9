/**
 * Fills an already-migrated database with realistic, reproducible demo data.
 *
 * Same seed + same options + same `now` ⇒ the same rows (API key secrets aside: keys come from the CSPRNG,
 * so only their prefixes and hashes differ between runs). Rows carry ids made by the generator (UUIDv7 from
 * the seeded PRNG), so rows reference each other without round trips, and are written with COPY in chunks.
 *
 * Atomicity: the whole seed runs in ONE transaction (on PostgreSQL on one pooled connection, on PGlite in
 * `pglite.transaction`), so a failure leaves the database exactly as it was.
 */
import type { Database } from '../db/database.js';
import type { ApiKeyPermission } from '../generated/prisma/enums.js';
import { generateExecutions } from './executions.js';
import { foldAllChanges } from '../modules/stats/rollup-folder.js';
import { BLOCKS } from './catalogue.js';
import { generateGraphs, generateUsers } from './graphs.js';
import { Rng } from './random.js';
import { generateSessions } from './sessions.js';
import { pgliteCopyTarget, postgresCopyTarget, RowBuffer, type CopyTarget, type TableName } from './writer.js';

/** A bulk load publishes no live updates (the live_notifications migration): nobody watches millions of new rows. */
const LIVE_UPDATES_OFF = "SET LOCAL agentgraph.live_updates = 'off'";

export { Rng } from './random.js';
export { createUserWithApiKey, prepareUser, normalizeEmail, permissionsFor, UserExistsError, InvalidEmailError } from './users.js';

export type SeedOptions = {
  users: number;
  graphsPerUser: number;
  /** Total graph executions (each gets one node execution per node of its graph version). */
  executions: number;
  /** Total sessions, team sessions and their member sessions included. */
  sessions: number;
  maxEventsPerSession: number;
  seed: number;
  /** Data is spread over the `days` before `now`. */
  days: number;
  /** Epoch milliseconds; defaults to Date.now(). Fix it to get identical rows. */
  now?: number;
};

/** A small data set for the first boot of the embedded database. */
export const DEMO_SEED_OPTIONS: Readonly<Omit<SeedOptions, 'now'>> = Object.freeze({
  users: 3,
  graphsPerUser: 4,
  executions: 300,
  sessions: 30,
  maxEventsPerSession: 500,
  seed: 42,
  days: 90,
});

export type SeedCounts = {
  users: number;
  graphs: number;
  graphVersions: number;
  nodes: number;
  links: number;
  graphExecutions: number;
  nodeExecutions: number;
  sessions: number;
  sessionEvents: number;
};

export type SeedSummary = {
  /** One key per seeded user, the admin first. Shown once: only hashes are stored. */
  apiKeys: Array<{ userId: string; email: string; key: string; permissions: ApiKeyPermission[] }>;
  counts: SeedCounts;
  durationMs: number;
};

/** Bytes of COPY text buffered before a chunk is sent. */
const CHUNK_BYTES = { postgres: 8 << 20, pglite: 4 << 20 } as const;

function validate(options: SeedOptions): void {
  for (const key of ['users', 'graphsPerUser', 'executions', 'sessions', 'maxEventsPerSession', 'seed'] as const) {
    const value = options[key];
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`seed option ${key} must be a non-negative integer, got ${value}`);
  }
  if (!(options.days > 0)) throw new Error(`seed option days must be positive, got ${options.days}`);
  if (options.users === 0 && (options.executions > 0 || options.sessions > 0)) throw new Error('executions and sessions need at least one user');
  if (options.graphsPerUser === 0 && options.executions > 0) throw new Error('executions need at least one graph per user');
  if (options.maxEventsPerSession < 1 && options.sessions > 0) throw new Error('maxEventsPerSession must be at least 1');
}

/**
 * The catalogue revision at which seeded versions run without a check (`graphs.runnable_revision`): the current one
 * when every block the seeder draws is in the database and enabled, else null (their runs are then checked).
 */
async function seededRunnableRevision(query: (text: string, params: unknown[]) => Promise<Array<{ revision: number | null; present: number }>>): Promise<number | null> {
  const [row] = await query(
    `SELECT (SELECT revision FROM block_catalogue_revision WHERE id = 1) AS revision,
            (SELECT count(*)::int FROM blocks WHERE NOT disabled AND id = ANY($1::uuid[])) AS present`,
    [BLOCKS.map((block) => block.id)],
  );
  return row && Number(row.present) === BLOCKS.length ? row.revision : null;
}

async function generateAll(
  target: CopyTarget,
  chunkBytes: number,
  options: SeedOptions,
  now: number,
  reservedEmails: Set<string>,
  runnableRevision: number | null,
  log: (msg: string) => void,
) {
  const buffer = new RowBuffer(target, chunkBytes);
  const root = new Rng(options.seed);
  // Independent streams per section: changing the number of executions does not change the sessions.
  const userRng = root.fork('users');
  const graphRng = root.fork('graphs');
  const executionRng = root.fork('executions');
  const sessionRng = root.fork('sessions');
  // Forked last: the streams above stay what they were before the showcase sessions existed.
  const showcaseRng = root.fork('showcase');
  const windowMs = options.days * 24 * 3_600_000;
  const start = now - windowMs;

  const users = generateUsers(userRng, buffer, options.users, start, windowMs, reservedEmails);
  const graphs = generateGraphs(graphRng, buffer, users, options.graphsPerUser, now, runnableRevision);
  await buffer.flush();
  log(`seed: ${users.length} users, ${graphs.length} graphs written; generating ${options.executions} executions`);
  await generateExecutions(executionRng, buffer, graphs, options.executions, now);
  await buffer.flush();
  log(`seed: ${buffer.counts.nodeExecutions} node executions written; generating ${options.sessions} sessions`);
  await generateSessions(sessionRng, showcaseRng, buffer, users, options.sessions, options.maxEventsPerSession, now, windowMs);
  await buffer.finish();
  const c: Record<TableName, number> = buffer.counts;
  const counts: SeedCounts = {
    users: c.users,
    graphs: graphs.length,
    graphVersions: c.graphs,
    nodes: c.nodes,
    links: c.links,
    graphExecutions: c.graphExecutions,
    nodeExecutions: c.nodeExecutions,
    sessions: c.sessions,
    sessionEvents: c.sessionEvents,
  };
  return { users, counts };
}

export async function seedDatabase(db: Database, options: SeedOptions, log: (msg: string) => void = () => {}): Promise<SeedSummary> {
  validate(options);
  const started = performance.now();
  const now = Math.floor(options.now ?? Date.now());
  let result: Awaited<ReturnType<typeof generateAll>>;

  if (db.kind === 'postgres') {
    const client = await db.pool.connect();
    try {
      const existing = await client.query<{ email: string }>('SELECT email FROM users');
      const runnableRevision = await seededRunnableRevision(async (text, params) => (await client.query(text, params)).rows);
      await client.query('BEGIN');
      // Losing this transaction in a crash just means seeding again; no need to wait for the WAL flush.
      await client.query('SET LOCAL synchronous_commit = off');
      await client.query(LIVE_UPDATES_OFF);
      result = await generateAll(postgresCopyTarget(client), CHUNK_BYTES.postgres, options, now, new Set(existing.rows.map((r) => r.email)), runnableRevision, log);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    // Fresh statistics so the first queries over the new rows get sensible plans.
    await db.pool.query('ANALYZE').catch(() => {});
  } else {
    const existing = await db.pglite.query<{ email: string }>('SELECT email FROM users');
    const reserved = new Set(existing.rows.map((r) => r.email));
    const runnableRevision = await seededRunnableRevision(async (text, params) => (await db.pglite.query<{ revision: number | null; present: number }>(text, params)).rows);
    result = await db.pglite.transaction(async (tx) => {
      await tx.query(LIVE_UPDATES_OFF);
      return generateAll(pgliteCopyTarget(tx), CHUNK_BYTES.pglite, options, now, reserved, runnableRevision, log);
    });
  }
  // The statistics rollups count the new rows at once (their triggers queued every change), as after a quiet second.
  await foldAllChanges(db.sql);

  const apiKeys = result.users.map((u) => ({ userId: u.id, email: u.email, key: u.key, permissions: u.permissions }));
  const durationMs = Math.round(performance.now() - started);
  log(`seed: done in ${durationMs} ms`);
  return { apiKeys, counts: result.counts, durationMs };
}
