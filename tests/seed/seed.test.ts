/**
 * The seeder against a fresh PostgreSQL database and against PGlite (memory://): counts, data invariants
 * (checked in SQL), determinism across databases, API keys that authenticate, and the operator CLI.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrations.js';
import { apiKeyMatchesHash, apiKeyPrefix } from '../../src/modules/auth/api-key-secret.js';
import { Rng } from '../../src/seed/random.js';
import { ADMIN_PERMISSIONS, USER_PERMISSIONS } from '../../src/seed/users.js';
import { seedDatabase, type SeedOptions, type SeedSummary } from '../../src/seed/index.js';
import { syncBuiltInCatalogue } from '../../src/modules/blocks/block-sync.js';
import { runProblems, structureProblems } from '../../src/modules/blocks/graph-rules.js';
import { createPostgresDatabase, testDatabaseKinds } from '../helpers/databases.js';
import { runOperatorCli } from '../helpers/cli.js';

const OPTIONS: SeedOptions = {
  users: 4,
  graphsPerUser: 5,
  executions: 400,
  sessions: 40,
  maxEventsPerSession: 120,
  seed: 1234,
  days: 90,
  now: Date.parse('2025-05-01T12:00:00.000Z'),
};

type Query = <T = Record<string, unknown>>(sql: string) => Promise<T[]>;

function queryFor(db: Database): Query {
  return async <T,>(sql: string) => {
    if (db.kind === 'pglite') return (await db.pglite.query<T>(sql)).rows;
    return (await db.pool.query(sql)).rows as T[];
  };
}

async function count(query: Query, sql: string): Promise<number> {
  const rows = await query<{ n: string | number }>(`select count(*) as n from (${sql}) violations`);
  return Number(rows[0]!.n);
}

/** Each query lists rows violating one invariant; all must be empty. */
const INVARIANTS: Record<string, string> = {
  'run cost is the sum of its node costs': `
    select ge.id from graph_executions ge
    left join (select graph_execution_id, sum(cost) as total from node_executions group by 1) ne on ne.graph_execution_id = ge.id
    where ge.cost <> coalesce(ne.total, 0)`,
  'run stats cost matches cost': `select id from graph_executions where stats is not null and (stats->>'cost')::int <> cost`,
  'every node of the version has exactly one node execution': `
    select ge.id, n.id from graph_executions ge
    join nodes n on n.graph_id = ge.graph_id and n.graph_version = ge.graph_version
    left join node_executions ne on ne.graph_execution_id = ge.id and ne.node_id = n.id
    group by ge.id, n.id having count(ne.id) <> 1`,
  'node executions belong to nodes of the executed version': `
    select ne.id from node_executions ne
    join graph_executions ge on ge.id = ne.graph_execution_id join nodes n on n.id = ne.node_id
    where n.graph_id <> ge.graph_id or n.graph_version <> ge.graph_version`,
  'runs belong to the graph owner': `
    select ge.id from graph_executions ge join graphs g on g.id = ge.graph_id and g.version = ge.graph_version
    where g.user_id <> ge.user_id or ge.created_at < g.created_at`,
  'run timestamps are ordered': `
    select id from graph_executions
    where started_at < created_at or ended_at < started_at or updated_at < created_at
       or (status = 'QUEUED' and started_at is not null)
       or (status in ('QUEUED', 'RUNNING', 'REVIEW') and ended_at is not null)
       or (status in ('COMPLETED', 'FAILED', 'TERMINATED') and (started_at is null or ended_at is null))
       or ended_at > '${new Date(OPTIONS.now!).toISOString()}'`,
  'node executions lie within their run': `
    select ne.id from node_executions ne join graph_executions ge on ge.id = ne.graph_execution_id
    where ne.added_at < ge.created_at or ne.queued_at < ne.added_at or ne.started_at < ne.queued_at
       or ne.ended_at < ne.started_at or ne.started_at < ge.started_at or ne.ended_at > ge.ended_at
       or (ne.started_at is not null and ge.started_at is null)`,
  'node statuses agree with the run': `
    select ge.id from graph_executions ge join node_executions ne on ne.graph_execution_id = ge.id
    group by ge.id, ge.status
    having (ge.status = 'FAILED' and count(*) filter (where ne.status = 'FAILED') = 0)
        or (ge.status = 'COMPLETED' and count(*) filter (where ne.status <> 'COMPLETED') > 0)
        or (ge.status = 'QUEUED' and count(*) filter (where ne.status not in ('INCOMPLETE', 'QUEUED')) > 0)
        or (ge.status = 'RUNNING' and count(*) filter (where ne.status = 'RUNNING') <> 1)
        or (ge.status = 'REVIEW' and count(*) filter (where ne.status = 'REVIEW') <> 1)`,
  'unfinished node executions have no end': `
    select id from node_executions where (status in ('INCOMPLETE', 'QUEUED', 'RUNNING', 'REVIEW') and ended_at is not null)
       or (status in ('COMPLETED', 'FAILED', 'TERMINATED') and (started_at is null or ended_at is null))`,
  'links stay within one graph version': `
    select l.id from links l join nodes s on s.id = l.source_id join nodes k on k.id = l.sink_id
    where s.graph_id <> l.graph_id or s.graph_version <> l.graph_version
       or k.graph_id <> l.graph_id or k.graph_version <> l.graph_version`,
  'non-static links form no cycle': `
    with recursive reach(start, node) as (
      select source_id, sink_id from links where not is_static
      union
      select r.start, l.sink_id from reach r join links l on l.source_id = r.node and not l.is_static
    ) select start from reach where start = node`,
  'graph versions are 1..n with only the latest active': `
    select id from graphs group by id
    having min(version) <> 1 or max(version) <> count(*)
        or count(*) filter (where is_active) <> 1 or max(version) <> max(case when is_active then version end)`,
  'graph versions have 3..30 nodes': `
    select g.id from graphs g left join nodes n on n.graph_id = g.id and n.graph_version = g.version
    group by g.id, g.version having count(n.id) not between 3 and 30`,
  'session event sequences are 1..n, gap-free, and match last_sequence': `
    select s.id from sessions s left join session_events e on e.session_id = s.id
    group by s.id, s.last_sequence, s.version
    having count(e.id) <> s.last_sequence or coalesce(max(e.sequence), 0) <> s.last_sequence
        or coalesce(min(e.sequence), 1) <> 1 or count(e.id) < 1 or s.version <> s.last_sequence + 1`,
  'session event timestamps strictly increase and follow the session creation': `
    select id from (
      select e.id, e.timestamp, s.created_at,
             lag(e.timestamp) over (partition by e.session_id order by e.sequence) as previous
      from session_events e join sessions s on s.id = e.session_id
    ) x where x.timestamp <= x.previous or x.timestamp < x.created_at`,
  'session updated_at is its last event': `
    select s.id from sessions s join session_events e on e.session_id = s.id
    group by s.id, s.updated_at having max(e.timestamp) <> s.updated_at`,
  'member sessions point at a same-user team session that is not itself a member': `
    select m.id from sessions m join sessions t on t.id = m.team_session_id
    where t.team_session_id is not null or t.user_id <> m.user_id or m.created_at < t.created_at`,
  'every session says where it ran (metadata env)': `select id from sessions where metadata->>'env' not in ('prod', 'staging') or metadata->>'env' is null`,
  'admin key only on the first user': `
    select k.id from api_keys k join users u on u.id = k.user_id
    where ('ADMIN' = any(k.permissions)) <> (u.email like 'admin%')`,
};

/** md5 of every table's rows in id order (timestamps as epoch ms, so the server time zone does not matter). */
async function fingerprints(query: Query): Promise<Record<string, string>> {
  const tables: Record<string, string> = {
    users: `select id, email, name, metadata, (extract(epoch from created_at) * 1000)::bigint from users`,
    api_keys: `select id, user_id, name, permissions, status, (extract(epoch from created_at) * 1000)::bigint from api_keys`,
    graphs: `select id, version, name, description, is_active, user_id, (extract(epoch from created_at) * 1000)::bigint from graphs`,
    nodes: `select * from nodes`,
    links: `select * from links`,
    graph_executions: `select id, graph_id, graph_version, user_id, status, inputs, outputs, stats, cost, error_message, is_deleted,
      (extract(epoch from created_at) * 1000)::bigint, (extract(epoch from started_at) * 1000)::bigint, (extract(epoch from ended_at) * 1000)::bigint from graph_executions`,
    node_executions: `select id, graph_execution_id, node_id, status, inputs, outputs, stats, cost, error_message,
      (extract(epoch from added_at) * 1000)::bigint, (extract(epoch from started_at) * 1000)::bigint, (extract(epoch from ended_at) * 1000)::bigint from node_executions`,
    sessions: `select id, app_name, user_id, agent_id, status, metadata, state, team_session_id, version, last_sequence, (extract(epoch from updated_at) * 1000)::bigint from sessions`,
    session_events: `select id, session_id, sequence, invocation_id, agent_id, author, content, actions, metadata, branch, client_event_id,
      (extract(epoch from timestamp) * 1000)::bigint from session_events`,
  };
  const result: Record<string, string> = {};
  for (const [table, select] of Object.entries(tables)) {
    const rows = await query<{ md5: string; n: string | number }>(
      `select md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as md5, count(*) as n from (${select}) t`,
    );
    result[table] = `${rows[0]!.n}:${rows[0]!.md5}`;
  }
  return result;
}

async function checkSeededDatabase(db: Database, summary: SeedSummary): Promise<void> {
  const query = queryFor(db);
  const c = summary.counts;
  expect(c.users).toBe(OPTIONS.users);
  expect(c.graphs).toBe(OPTIONS.users * OPTIONS.graphsPerUser);
  expect(c.graphExecutions).toBe(OPTIONS.executions);
  expect(c.sessions).toBe(OPTIONS.sessions);
  expect(c.graphVersions).toBeGreaterThanOrEqual(c.graphs);
  expect(c.graphVersions).toBeLessThanOrEqual(4 * c.graphs);
  const [row] = await query<Record<string, string | number>>(`select
    (select count(*) from users) as users, (select count(distinct id) from graphs) as graphs, (select count(*) from graphs) as versions,
    (select count(*) from nodes) as nodes, (select count(*) from links) as links, (select count(*) from graph_executions) as runs,
    (select count(*) from node_executions) as node_runs, (select count(*) from sessions) as sessions,
    (select count(*) from session_events) as events, (select count(*) from api_keys) as keys,
    (select max(last_sequence) from sessions) as max_events`);
  expect(Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)]))).toEqual({
    users: c.users,
    graphs: c.graphs,
    versions: c.graphVersions,
    nodes: c.nodes,
    links: c.links,
    runs: c.graphExecutions,
    node_runs: c.nodeExecutions,
    sessions: c.sessions,
    events: c.sessionEvents,
    keys: c.users,
    max_events: expect.any(Number),
  });
  expect(Number(row!.max_events)).toBeLessThanOrEqual(OPTIONS.maxEventsPerSession);

  for (const [name, sql] of Object.entries(INVARIANTS)) {
    expect.soft(await count(query, sql), name).toBe(0);
  }

  // A realistic status mix, mostly completed.
  const statuses = Object.fromEntries(
    (await query<{ status: string; n: string | number }>(`select status, count(*) as n from graph_executions group by status`)).map((r) => [r.status, Number(r.n)]),
  );
  expect(statuses.COMPLETED).toBeGreaterThan(OPTIONS.executions * 0.6);
  for (const status of ['FAILED', 'RUNNING', 'QUEUED', 'TERMINATED']) expect(statuses[status], status).toBeGreaterThan(0);
  const teamMembers = await count(query, `select id from sessions where team_session_id is not null`);
  expect(teamMembers).toBeGreaterThan(0);
  // The README's session examples start here: the first user's support-bot team, ACTIVE, in production, with its
  // agents' events on root.support_agent and below.
  const showcase = await query<{ agent_id: string; lead: string | null; agent_events: string | number }>(`
    select s.agent_id, t.agent_id as lead,
           (select count(*) from session_events e where e.session_id = s.id and e.branch like 'root.support\\_agent%') as agent_events
    from sessions s join users u on u.id = s.user_id left join sessions t on t.id = s.team_session_id
    where u.email like 'admin%' and s.app_name = 'support-bot' and s.status = 'ACTIVE' and s.metadata @> '{"env": "prod"}'`);
  expect(showcase.map((s) => [s.agent_id, s.lead])).toEqual(expect.arrayContaining([['support_agent', null], ['billing_agent', 'support_agent'], ['refund_agent', 'support_agent']]));
  expect(showcase.filter((s) => s.lead === 'support_agent' || s.agent_id === 'support_agent').every((s) => Number(s.agent_events) > 0)).toBe(true);
  await checkGraphsFollowTheCatalogue(db);
}

/** Every seeded version is one createGraph would store and executeGraph would run: no problem under the catalogue's rules. */
async function checkGraphsFollowTheCatalogue(db: Database): Promise<void> {
  await syncBuiltInCatalogue(db.prisma);
  const blocks = new Map((await db.prisma.block.findMany()).map((block) => [block.id, block]));
  const versions = await db.prisma.graph.findMany({ include: { nodes: true, links: true } });
  expect(versions.every((version) => version.blocksChecked)).toBe(true);
  // Templates are published active versions, and there is at least one to copy.
  expect(versions.filter((version) => version.isTemplate).length).toBeGreaterThan(0);
  expect(versions.filter((version) => version.isTemplate).every((version) => version.isActive)).toBe(true);
  const problems = versions.flatMap((version) => {
    const nodes = version.nodes.map((node) => ({ ref: node.id, blockId: node.blockId, nodeType: node.nodeType, inputDefault: node.inputDefault }));
    const links = version.links.map((link) => ({ source: link.sourceId, sink: link.sinkId, sourceName: link.sourceName, sinkName: link.sinkName, isStatic: link.isStatic }));
    return [...structureProblems(nodes, links, blocks), ...runProblems(nodes, links, blocks)].map((problem) => problem.message);
  });
  expect(problems).toEqual([]);
  // The seeder draws links between compatible ports, not one fixed port: most blocks' inputs are fed by links.
  expect(versions.reduce((n, version) => n + version.links.length, 0)).toBeGreaterThan(versions.length);
}

async function checkApiKeys(db: Database, summary: SeedSummary): Promise<void> {
  expect(summary.apiKeys).toHaveLength(OPTIONS.users);
  expect(summary.apiKeys[0]!.permissions).toEqual([...ADMIN_PERMISSIONS]);
  for (const entry of summary.apiKeys.slice(1)) expect(entry.permissions).toEqual([...USER_PERMISSIONS]);
  for (const entry of summary.apiKeys) {
    const prefix = apiKeyPrefix(entry.key);
    expect(prefix).not.toBeNull();
    const stored = await db.prisma.apiKey.findUnique({ where: { prefix: prefix! }, include: { user: true } });
    expect(stored?.userId).toBe(entry.userId);
    expect(stored?.user.email).toBe(entry.email);
    expect(stored?.status).toBe('ACTIVE');
    expect([...stored!.permissions].sort()).toEqual([...entry.permissions].sort());
    expect(apiKeyMatchesHash(entry.key, stored!.secretHash)).toBe(true);
    expect(apiKeyMatchesHash(`${entry.key}x`, stored!.secretHash)).toBe(false);
  }
}

describe('seeded PRNG', () => {
  it('is deterministic and not trivially biased', () => {
    const a = new Rng(99);
    const b = new Rng(99);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(new Rng(100).next()).not.toBe(xs[0]);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(new Rng(1).uuid7(Date.parse('2025-01-01T00:00:00Z'))).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

const pgDescribe = testDatabaseKinds.includes('postgres') ? describe : describe.skip;

describe('seedDatabase on PGlite (memory://)', () => {
  let db: Database;
  let summary: SeedSummary;

  beforeAll(async () => {
    db = await openDatabase({ pgliteDataDir: 'memory://', poolMax: 1 });
    await applyMigrations(db);
    summary = await seedDatabase(db, OPTIONS);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('writes the requested amounts and keeps every invariant', async () => {
    await checkSeededDatabase(db, summary);
  });

  it('prints API keys that authenticate', async () => {
    await checkApiKeys(db, summary);
  });

  it('rolls back everything when the seed fails', async () => {
    const other = await openDatabase({ pgliteDataDir: 'memory://', poolMax: 1 });
    try {
      await applyMigrations(other);
      // Sessions come last: make them fail after users, graphs and executions were written.
      await queryFor(other)(`alter table session_events add constraint no_events check (sequence < 0)`);
      await expect(seedDatabase(other, OPTIONS)).rejects.toThrow();
      const rows = await queryFor(other)<{ n: number }>(`select (select count(*) from users) + (select count(*) from node_executions) as n`);
      expect(Number(rows[0]!.n)).toBe(0);
    } finally {
      await other.close();
    }
  });

  pgDescribe('and on PostgreSQL', () => {
    let pgDb: Database;
    let pgSummary: SeedSummary;
    let dropDatabase: () => Promise<void>;
    let url: string;

    beforeAll(async () => {
      const created = await createPostgresDatabase('agentgraph_seed');
      dropDatabase = created.drop;
      url = created.url;
      pgDb = await openDatabase({ url: created.url, pgliteDataDir: '', poolMax: 3 });
      await applyMigrations(pgDb);
      pgSummary = await seedDatabase(pgDb, OPTIONS);
    });
    afterAll(async () => {
      await pgDb?.close();
      await dropDatabase?.();
    });

    it('writes the requested amounts and keeps every invariant', async () => {
      await checkSeededDatabase(pgDb, pgSummary);
    });

    it('prints API keys that authenticate', async () => {
      await checkApiKeys(pgDb, pgSummary);
    });

    it('is deterministic: same seed, options and now give identical rows in PostgreSQL and PGlite', async () => {
      expect(pgSummary.counts).toEqual(summary.counts);
      expect(pgSummary.apiKeys.map((k) => [k.userId, k.email])).toEqual(summary.apiKeys.map((k) => [k.userId, k.email]));
      // API key secrets come from the CSPRNG: different on each run.
      expect(pgSummary.apiKeys[0]!.key).not.toBe(summary.apiKeys[0]!.key);
      const [a, b] = await Promise.all([fingerprints(queryFor(pgDb)), fingerprints(queryFor(db))]);
      expect(a).toEqual(b);
    });

    it('a different seed gives different data', async () => {
      const other = await openDatabase({ pgliteDataDir: 'memory://', poolMax: 1 });
      try {
        await applyMigrations(other);
        await seedDatabase(other, { ...OPTIONS, seed: OPTIONS.seed + 1 });
        const [a, b] = await Promise.all([fingerprints(queryFor(pgDb)), fingerprints(queryFor(other))]);
        expect(a.nodes).not.toBe(b.nodes);
        expect(a.session_events).not.toBe(b.session_events);
      } finally {
        await other.close();
      }
    });

    describe('operator CLI', () => {
      const runCli = (args: string[]) => runOperatorCli(args, { ...process.env, DATABASE_URL: url, MIGRATE_ON_START: '' });

      it('user:create prints a user id and an API key that authenticates', async () => {
        const result = await runCli(['user:create', '--email', 'Operator@Example.com', '--name', 'Op Erator', '--admin']);
        expect(result.code, result.stderr).toBe(0);
        const printed = JSON.parse(result.stdout.trim()) as { userId: string; apiKey: string; permissions: string[] };
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          const { rows } = await client.query<{ email: string; name: string; secret_hash: string; permissions: string }>(
            `select u.email, u.name, k.secret_hash, k.permissions::text from users u join api_keys k on k.user_id = u.id
             where u.id = $1 and k.prefix = $2`,
            [printed.userId, apiKeyPrefix(printed.apiKey)],
          );
          expect(rows).toHaveLength(1);
          expect(rows[0]!.email).toBe('operator@example.com');
          expect(rows[0]!.name).toBe('Op Erator');
          expect(rows[0]!.permissions).toContain('ADMIN');
          expect(apiKeyMatchesHash(printed.apiKey, rows[0]!.secret_hash)).toBe(true);
        } finally {
          await client.end();
        }
      });

      it('refuses an email that exists and a malformed email with exit code 1', async () => {
        const taken = await runCli(['user:create', '--email', pgSummary.apiKeys[1]!.email]);
        expect(taken.code).toBe(1);
        expect(taken.stderr).toMatch(/already exists/);
        expect(taken.stdout).toBe('');
        const bad = await runCli(['user:create', '--email', 'not-an-email']);
        expect(bad.code).toBe(1);
        expect(bad.stderr).toMatch(/not a valid email/);
      });
    });
  });
});
