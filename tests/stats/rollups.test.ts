import { buildASTSchema, parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostModel } from '../../src/server/cost/operation-cost.js';
import { loadSchemaDocument } from '../../src/schema-files.js';
import { Prisma } from '../../src/generated/prisma/client.js';
import { Rng } from '../../src/seed/random.js';
import { backfillRollups, markRollupsIncomplete } from '../../src/modules/stats/rollup-backfill.js';
import { catchUpAllQuarters, foldAllChanges, foldChanges } from '../../src/modules/stats/rollup-folder.js';
import { verifyRollups } from '../../src/modules/stats/rollup-verify.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { createGraph, createUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The statistics rollups against the rows they count: random sequences of changes through the API (runs created,
 * moved along their statuses, node executions finished and re-costed, runs deleted) and through SQL (runs moved in
 * time, re-costed, hard-deleted with their graph), racing executors on one busy graph, and the back-fill while writes
 * go on. After each, every rollup row equals its recomputation from the rows, exactly (verifyRollups).
 */

const EXECUTE = `mutation($graphId: ID!) { executeGraph(graphId: $graphId) { graphExecution { id nodeExecutions(first: 20) { nodes { id } } } } }`;
const RUN_STATUS = `mutation($id: ID!, $status: ExecutionStatus!) { updateGraphExecution(id: $id, status: $status) { graphExecution { id status } } }`;
const NODE_STATUS = `mutation($id: ID!, $status: ExecutionStatus!, $cost: NonNegativeInt) { updateNodeExecution(id: $id, status: $status, cost: $cost) { nodeExecution { id } } }`;
const DELETE = `mutation($id: ID!) { deleteGraphExecution(id: $id) { deletedGraphExecutionId } }`;
const WIDE = `query($from: DateTime!, $to: DateTime!) { executionStats(filter: { from: $from, to: $to }, bucket: DAY) {
  percentileRelativeError total nodeExecutions duration { count } } }`;

const NEXT_RUN: Record<string, string[]> = { QUEUED: ['RUNNING', 'FAILED', 'TERMINATED'], RUNNING: ['COMPLETED', 'FAILED', 'TERMINATED', 'REVIEW'], REVIEW: ['RUNNING', 'FAILED'] };
const NEXT_NODE: Record<string, string[]> = { INCOMPLETE: ['QUEUED', 'RUNNING', 'FAILED'], QUEUED: ['RUNNING', 'TERMINATED'], RUNNING: ['COMPLETED', 'FAILED', 'REVIEW'], REVIEW: ['RUNNING', 'FAILED'] };

const EVERYTHING = { from: new Date('2001-01-01T00:00:00Z'), to: new Date('2030-01-01T00:00:00Z') };
/** The widest range `executionStats` answers (400 days), around every row the tests write. */
const RECENT = { from: new Date(Date.now() - 390 * 86_400_000), to: new Date(Date.now() + 86_400_000) };

type Run = { id: string; status: string; nodes: Array<{ id: string; status: string }> };

describe.each(testDatabaseKinds)('statistics rollups on %s', (kind) => {
  let server: TestServer;
  let admin: string;
  let graphIds: string[];

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    admin = (await createUser(server.db, { admin: true })).apiKey;
    graphIds = [];
    for (let g = 0; g < 3; g++) graphIds.push((await createGraph(server.db, server.userId, { name: `rollups ${g}` })).graph.id);
  });
  afterAll(() => server?.close());

  async function ok<T>(query: string, variables: Record<string, unknown>, key?: string): Promise<T> {
    const res = await server.graphql<T>(query, variables, key);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data!;
  }

  async function execute(graphId: string): Promise<Run> {
    const data = await ok<{ executeGraph: { graphExecution: { id: string; nodeExecutions: { nodes: Array<{ id: string }> } } } }>(EXECUTE, { graphId });
    const run = data.executeGraph.graphExecution;
    return { id: run.id, status: 'QUEUED', nodes: run.nodeExecutions.nodes.map((n) => ({ id: n.id, status: 'INCOMPLETE' })) };
  }

  async function expectRollupsExact() {
    const report = await verifyRollups(server.db.sql, EVERYTHING.from, EVERYTHING.to);
    expect(report.mismatches).toEqual([]);
    return report;
  }

  const sql = (statement: Prisma.Sql) => server.db.sql.query(statement, { prepare: false });

  it('equal a recomputation from the rows after random changes through the API and SQL', async () => {
    for (const seed of [1, 2, 3]) {
      const rng = new Rng(seed);
      const runs: Run[] = [];
      for (let step = 0; step < 70; step++) {
        const live = runs.filter((r) => r.status !== 'DELETED');
        const op = live.length < 3 ? 0 : rng.int(0, 9);
        const run = live.length ? rng.pick(live) : null;
        if (op <= 1 || !run) runs.push(await execute(rng.pick(graphIds)));
        else if (op <= 3 && NEXT_RUN[run.status]) {
          run.status = rng.pick(NEXT_RUN[run.status]!);
          await ok(RUN_STATUS, { id: run.id, status: run.status });
        } else if (op <= 5) {
          const node = rng.pick(run.nodes);
          if (!NEXT_NODE[node.status]) continue;
          node.status = rng.pick(NEXT_NODE[node.status]!);
          await ok(NODE_STATUS, { id: node.id, status: node.status, cost: rng.chance(0.5) ? rng.int(0, 50) : null });
        } else if (op === 6) {
          run.status = 'DELETED';
          await ok(DELETE, { id: run.id });
        } else if (op === 7) {
          // Moved in time (another 15-minute span, day and week) with durations spread over the bins.
          const back = rng.int(0, 40 * 24) * 3_600_000 + rng.int(0, 3_599_999);
          await sql(Prisma.sql`UPDATE graph_executions SET created_at = created_at - ${back} * interval '1 millisecond',
            started_at = CASE WHEN started_at IS NULL THEN NULL ELSE created_at - ${back} * interval '1 millisecond' + ${rng.int(0, 5000)} * interval '1 millisecond' END,
            ended_at = CASE WHEN ended_at IS NULL THEN NULL ELSE created_at - ${back} * interval '1 millisecond' + ${rng.int(5000, 9_000_000)} * interval '1 millisecond' END
            WHERE id = ${run.id}::uuid`);
        } else if (op === 8) {
          await sql(Prisma.sql`UPDATE graph_executions SET cost = ${rng.int(0, 10_000)} WHERE id = ${run.id}::uuid`);
          // Part of the changes folded into the rollups, the rest still pending: both must add up.
          if (rng.chance(0.5)) await foldChanges(server.db.sql, rng.int(1, 20));
        } else {
          const node = rng.pick(run.nodes);
          await sql(Prisma.sql`UPDATE node_executions SET started_at = now() - interval '1 hour', ended_at = now() - interval '1 hour' + ${rng.int(0, 3_000_000)} * interval '1 millisecond'
            WHERE id = ${node.id}::uuid`);
        }
      }
      const report = await expectRollupsExact();
      expect(report.rowsCompared).toBeGreaterThan(50);
      await foldAllChanges(server.db.sql);
      await expectRollupsExact();
    }
    // A graph deleted with its runs (cascade: runs and node executions leave the rollups in the same statement).
    const { graph } = await createGraph(server.db, server.userId, { name: 'doomed' });
    for (let i = 0; i < 3; i++) await execute(graph.id);
    await sql(Prisma.sql`DELETE FROM graphs WHERE id = ${graph.id}::uuid`);
    await expectRollupsExact();
    // The API's every-user answer reads them (bin estimates), and counts what the rows count.
    const wide = await ok<{ executionStats: { percentileRelativeError: number; total: number; nodeExecutions: number } }>(WIDE, RECENT, admin);
    const [counted] = await server.db.sql.query<{ runs: number; nodes: number }>(Prisma.sql`SELECT
      (SELECT count(*)::int FROM graph_executions WHERE NOT is_deleted AND created_at >= ${RECENT.from} AND created_at < ${RECENT.to}) AS runs,
      (SELECT count(*)::int FROM node_executions WHERE NOT run_is_deleted AND run_created_at >= ${RECENT.from} AND run_created_at < ${RECENT.to}) AS nodes`);
    expect(wide.executionStats).toMatchObject({ percentileRelativeError: 0.02, total: counted!.runs, nodeExecutions: counted!.nodes });
  });

  it('lose no increment with racing executors on one busy graph, folded while they write', async () => {
    const graphId = graphIds[0]!;
    const workers = Array.from({ length: 8 }, async (_, w) => {
      const rng = new Rng(100 + w);
      for (let i = 0; i < 6; i++) {
        const run = await execute(graphId);
        await ok(RUN_STATUS, { id: run.id, status: 'RUNNING' });
        for (const node of run.nodes.slice(0, 2)) await ok(NODE_STATUS, { id: node.id, status: 'RUNNING' });
        await ok(NODE_STATUS, { id: run.nodes[0]!.id, status: 'COMPLETED', cost: rng.int(1, 9) });
        await ok(RUN_STATUS, { id: run.id, status: rng.pick(['COMPLETED', 'FAILED']) });
      }
    });
    // A folder racing the writers, as every server process runs one.
    let writing = true;
    const folder = (async () => {
      while (writing) {
        await foldChanges(server.db.sql, 7);
        // PGlite answers without leaving the microtask queue: let the HTTP server run between folds.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    await Promise.all(workers);
    writing = false;
    await folder;
    await expectRollupsExact();
    await foldAllChanges(server.db.sql);
    const [left] = await server.db.sql.query<{ n: number }>(Prisma.sql`SELECT count(*)::int AS n FROM stats_changes`);
    expect(left!.n).toBe(0);
    await expectRollupsExact();
  });

  it('rank graphs exactly where the partial days at the edges of the range decide, folded or not', async () => {
    const graphs: string[] = [];
    for (let g = 0; g < 6; g++) graphs.push((await createGraph(server.db, server.userId, { name: `ranked ${g}` })).graph.id);
    const at = (iso: string) => new Date(iso);
    const insertRuns = (graph: number, n: number, createdAt: string, status: (i: number) => string) =>
      sql(Prisma.sql`INSERT INTO graph_executions (id, graph_id, graph_version, user_id, status, cost, created_at, updated_at, started_at, ended_at)
        SELECT gen_random_uuid(), ${graphs[graph]}::uuid, 1, ${server.userId}::uuid, (${Array.from({ length: n }, (_, i) => status(i))}::text[])[i]::"ExecutionStatus",
               (i * 37 + ${graph}) % 50, ${at(createdAt)}::timestamptz + i * interval '1 second', now(),
               ${at(createdAt)}::timestamptz, ${at(createdAt)}::timestamptz + (i + ${graph}) * interval '3 seconds'
        FROM generate_series(1, ${n}) i`);
    const mixed = (i: number) => (i % 3 === 0 ? 'FAILED' : i % 5 === 0 ? 'RUNNING' : 'COMPLETED');
    // Whole days (June 8-11) rank g0 > g1 > ... > g4; the partial days decide: g5 and g4 run inside the range's edges,
    // g3 and g2 in the same days outside it (their bounds rise, their figures do not).
    for (const [graph, n] of [[0, 10], [1, 9], [2, 8], [3, 7], [4, 6]] as const) await insertRuns(graph, n, '2026-06-09T10:00:00Z', mixed);
    await insertRuns(5, 12, '2026-06-07T20:00:00Z', (i) => (i % 2 ? 'FAILED' : 'COMPLETED'));
    await foldAllChanges(server.db.sql);
    await insertRuns(4, 5, '2026-06-12T03:00:00Z', () => 'FAILED');
    await insertRuns(3, 20, '2026-06-07T10:00:00Z', mixed);
    await insertRuns(2, 15, '2026-06-12T12:00:00Z', () => 'FAILED');
    const RANK = `query($from: DateTime!, $to: DateTime!, $by: GraphStatsOrder, $limit: Int) {
      executionStats(filter: { from: $from, to: $to }) { topGraphs(by: $by, limit: $limit) { graph { id } runs completed failures cost } } }`;
    const METRIC: Record<string, string> = { RUNS: 'runs', FAILURES: 'failures', COST: 'cost' };
    const ranges = [
      ['2026-06-07T18:00:00Z', '2026-06-12T06:00:00Z'], // partial days at both ends
      ['2026-06-07T12:00:00Z', '2026-06-07T22:00:00Z'], // within one day
      ['2026-06-08T00:00:00Z', '2026-06-12T00:00:00Z'], // whole days only
      ['2026-05-20T07:15:00Z', '2026-06-12T04:00:00Z'], // weeks, days and edges
    ];
    for (const round of ['unfolded', 'folded']) {
      for (const [from, to] of ranges) {
        for (const by of ['RUNS', 'FAILURES', 'COST']) {
          for (const limit of [1, 2, 3, 5, 8]) {
            const expected = await server.db.sql.query<{ id: string; runs: number; completed: number; failures: number; cost: number }>(Prisma.sql`
              SELECT graph_id::text AS id, count(*)::int AS runs, (count(*) FILTER (WHERE status = 'COMPLETED'))::int AS completed,
                     (count(*) FILTER (WHERE status = 'FAILED'))::int AS failures, sum(cost)::int AS cost
              FROM graph_executions WHERE NOT is_deleted AND created_at >= ${at(from!)} AND created_at < ${at(to!)}
              GROUP BY graph_id ORDER BY ${Prisma.raw(METRIC[by]!)} DESC, graph_id LIMIT ${limit}`, { prepare: false });
            const data = await ok<{ executionStats: { topGraphs: Array<{ graph: { id: string }; runs: number; completed: number; failures: number; cost: number }> } }>(
              RANK, { from, to, by, limit }, admin);
            expect(data.executionStats.topGraphs.map(({ graph, ...figures }) => ({ id: graph.id, ...figures })), `${round} ${from} ${to} ${by} ${limit}`).toEqual(expected);
          }
        }
      }
      await foldAllChanges(server.db.sql);
    }
    // The ranking's bounds need non-negative costs: the database refuses others, whoever writes.
    await expect(sql(Prisma.sql`UPDATE graph_executions SET cost = -1 WHERE graph_id = ${graphs[0]}::uuid`)).rejects.toThrow(/cannot be negative/);
    await expectRollupsExact();
  });

  it("keep a busy graph's days per quarter-hour and answer its long ranges from them, in any time zone", async () => {
    const { graph } = await createGraph(server.db, server.userId, { name: 'busy' });
    const statuses = ['COMPLETED', 'COMPLETED', 'FAILED', 'COMPLETED', 'TERMINATED', 'RUNNING', 'COMPLETED'];
    // n runs from `start`, one every `everyS` seconds, with spread durations (finished ones) and costs.
    const insertRuns = (n: number, start: string, everyS: number, salt: number) =>
      sql(Prisma.sql`INSERT INTO graph_executions (id, graph_id, graph_version, user_id, status, cost, created_at, updated_at, started_at, ended_at)
        SELECT gen_random_uuid(), ${graph.id}::uuid, 1, ${server.userId}::uuid, (${statuses}::text[])[1 + (i + ${salt}) % 7]::"ExecutionStatus",
               (i * 13 + ${salt}) % 40, ${new Date(start)}::timestamptz + i * ${everyS} * interval '1 second', now(),
               ${new Date(start)}::timestamptz + i * ${everyS} * interval '1 second',
               CASE WHEN (i + ${salt}) % 7 = 5 THEN NULL ELSE ${new Date(start)}::timestamptz + i * ${everyS} * interval '1 second' + ((i * 7919 + ${salt}) % 600000) * interval '1 millisecond' END
        FROM generate_series(1, ${n}) i`);
    const kept = () =>
      server.db.sql.query<{ day: Date }>(Prisma.sql`SELECT bucket AS day FROM graph_run_rollups WHERE span = 1440 AND graph_id = ${graph.id}::uuid AND quarters ORDER BY 1`, { prepare: false });
    // July 1st and 3rd are busy (at least stats_busy_day_runs(), 96, runs), July 2nd is not.
    await insertRuns(70, '2026-07-01T00:05:00Z', 1_200, 0);
    await foldAllChanges(server.db.sql);
    await insertRuns(60, '2026-07-01T01:07:00Z', 1_300, 1);
    await insertRuns(40, '2026-07-02T00:00:00Z', 2_000, 2);
    await insertRuns(110, '2026-07-03T00:00:30Z', 700, 3);
    // Folded part by part: a day becomes busy in the middle of a fold and is kept from the rows, minus what is pending.
    await foldChanges(server.db.sql, 50);
    await foldChanges(server.db.sql, 30);
    await expectRollupsExact();
    await foldAllChanges(server.db.sql);
    expect((await kept()).map((r) => r.day.toISOString())).toEqual(['2026-07-01T00:00:00.000Z', '2026-07-03T00:00:00.000Z']);
    await expectRollupsExact();

    // Days counted before they were kept (an upgrade, a back-fill) are caught up, with changes pending meanwhile.
    await sql(Prisma.sql`UPDATE graph_run_rollups SET quarters = false WHERE graph_id = ${graph.id}::uuid`);
    await sql(Prisma.sql`DELETE FROM graph_quarter_rollups WHERE graph_id = ${graph.id}::uuid`);
    await sql(Prisma.sql`UPDATE stats_rollup_state SET quarters_caught_up = false, quarters_through = NULL`);
    await sql(Prisma.sql`UPDATE graph_executions SET status = 'COMPLETED', cost = cost + 1, ended_at = coalesce(ended_at, started_at + interval '3 seconds')
      WHERE graph_id = ${graph.id}::uuid AND status = 'RUNNING' AND created_at < '2026-07-01T12:00:00Z'`);
    expect(await catchUpAllQuarters(server.db.sql)).toBeGreaterThan(0);
    expect((await kept()).length).toBe(2);
    await expectRollupsExact();
    await insertRuns(5, '2026-07-03T22:50:00Z', 60, 4);

    const STATS = `query($f: ExecutionStatsFilter!, $b: TimeBucket, $tz: String) { executionStats(filter: $f, bucket: $b, timezone: $tz) {
      percentileRelativeError total byStatus { status count } cost { total } duration { count avgMs p50Ms p95Ms }
      timeSeries { bucketStart total completed failed cost p95DurationMs } } }`;
    type Answer = {
      percentileRelativeError: number;
      total: number;
      byStatus: Array<{ status: string; count: number }>;
      cost: { total: number };
      duration: { count: number; avgMs: number | null; p50Ms: number | null; p95Ms: number | null };
      timeSeries: Array<{ bucketStart: string; total: number; completed: number; failed: number; cost: number; p95DurationMs: number | null }>;
    };
    for (const [from, to, bucket, tz, only] of [
      ['2026-06-20T07:07:13Z', '2026-07-03T23:11:00Z', 'HOUR', 'Asia/Kathmandu', null],
      ['2026-06-25T00:00:00Z', '2026-07-04T00:00:00Z', 'DAY', 'America/St_Johns', ['COMPLETED', 'FAILED']],
      ['2026-06-24T09:30:00Z', '2026-07-03T16:45:30Z', 'HOUR', 'Asia/Kolkata', null],
    ] as const) {
      const filter = { graphId: graph.id, from, to, ...(only ? { statuses: only } : {}) };
      const { executionStats: answer } = await ok<{ executionStats: Answer }>(STATS, { f: filter, b: bucket, tz }, admin);
      const inScope = Prisma.sql`graph_id = ${graph.id}::uuid AND NOT is_deleted AND created_at >= ${new Date(from)} AND created_at < ${new Date(to)}
        ${only ? Prisma.sql`AND status::text = ANY(${[...only]}::text[])` : Prisma.empty}`;
      const [exact] = await server.db.sql.query<{ total: number; cost: number; count: number; avg: number | null; p: number[] | null }>(Prisma.sql`
        SELECT count(*)::int AS total, coalesce(sum(cost), 0)::int AS cost, count(d)::int AS count, avg(d) AS avg,
               percentile_cont(ARRAY[0.5, 0.95]::float8[]) WITHIN GROUP (ORDER BY d) AS p
        FROM (SELECT cost, CASE WHEN status IN ('COMPLETED', 'FAILED', 'TERMINATED') THEN round(date_part('epoch', ended_at - started_at) * 1000) END AS d
              FROM graph_executions WHERE ${inScope}) x`, { prepare: false });
      expect(answer.percentileRelativeError).toBe(0.02);
      expect(answer.total).toBe(exact!.total);
      expect(answer.cost.total).toBe(exact!.cost);
      expect(answer.duration.count).toBe(exact!.count);
      expect(answer.duration.avgMs).toBeCloseTo(Number(exact!.avg), 6);
      for (const [i, p] of [answer.duration.p50Ms, answer.duration.p95Ms].entries()) expect(Math.abs(p! - exact!.p![i]!)).toBeLessThanOrEqual(0.02 * exact!.p![i]! + 1e-9);
      const byStatus = await server.db.sql.query<{ status: string; count: number }>(Prisma.sql`
        SELECT status::text AS status, count(*)::int AS count FROM graph_executions WHERE ${inScope} GROUP BY 1`, { prepare: false });
      for (const { status, count } of answer.byStatus) expect(count, status).toBe(byStatus.find((r) => r.status === status)?.count ?? 0);
      const starts = answer.timeSeries.map((p) => p.bucketStart);
      const series = await server.db.sql.query<{ i: number; total: number; completed: number; failed: number; cost: number; p95: number | null }>(Prisma.sql`
        SELECT width_bucket(created_at, ${starts}::timestamptz[]) AS i, count(*)::int AS total, (count(*) FILTER (WHERE status = 'COMPLETED'))::int AS completed,
               (count(*) FILTER (WHERE status = 'FAILED'))::int AS failed, sum(cost)::int AS cost,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY CASE WHEN status IN ('COMPLETED', 'FAILED', 'TERMINATED') THEN round(date_part('epoch', ended_at - started_at) * 1000) END) AS p95
        FROM graph_executions WHERE ${inScope} GROUP BY 1`, { prepare: false });
      expect(answer.timeSeries.filter((p) => p.total > 0).length).toBe(series.length);
      for (const row of series) {
        const point = answer.timeSeries[row.i - 1]!;
        expect(point, `${tz} ${starts[row.i - 1]}`).toMatchObject({ total: row.total, completed: row.completed, failed: row.failed, cost: row.cost });
        // Each bucket's p95 from its own durations (kept per bucket while the whole range's are summed), within the bound.
        if (row.p95 === null) expect(point.p95DurationMs).toBeNull();
        else expect(Math.abs(point.p95DurationMs! - row.p95), `${tz} ${starts[row.i - 1]}`).toBeLessThanOrEqual(0.02 * row.p95 + 1e-9);
      }
    }
    // A week or less of one graph reads its runs: exact.
    const recent = await ok<{ executionStats: Answer }>(STATS, { f: { graphId: graph.id, from: '2026-06-28T00:00:00Z', to: '2026-07-04T00:00:00Z' } }, admin);
    expect(recent.executionStats.percentileRelativeError).toBe(0);
  });

  it("prices every user's statistics by the rollup spans they read; a user's own by the days they scan", async () => {
    const day = 86_400_000;
    const now = Date.parse('2026-11-20T00:00:00Z');
    const series = (days: number, bucket: string, tz: string) =>
      `{ executionStats(filter: { from: "${new Date(now - days * day).toISOString()}", to: "${new Date(now).toISOString()}" }, bucket: ${bucket}, timezone: "${tz}") { total timeSeries { total p95DurationMs } } }`;
    const codes = async (query: string, key?: string) => (await server.graphql(query, {}, key)).errors?.map((e) => e.extensions?.code) ?? [];
    // 400 days of hourly buckets read 38,400 quarter-hour spans of every user: refused; a user's own runs are scanned.
    expect(await codes(series(400, 'HOUR', 'UTC'), admin)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(await codes(series(400, 'HOUR', 'UTC'))).toEqual([]);
    expect(await codes(series(90, 'DAY', 'Asia/Kathmandu'), admin)).toEqual([]);
    const model = createCostModel(buildASTSchema(loadSchemaDocument()));
    const cost = (query: string, admin: boolean) => {
      const document = parse(query);
      return model.analyze(document, document.definitions[0] as OperationDefinitionNode, {}, Number.MAX_SAFE_INTEGER, { admin });
    };
    // Local days off UTC's read each day plus and minus quarter-hours at its edges: dearer than UTC days.
    expect(cost(series(90, 'DAY', 'Asia/Kathmandu'), true).cost).toBeGreaterThan(cost(series(90, 'DAY', 'UTC'), true).cost);
    expect(cost(series(90, 'DAY', 'UTC'), true)).toMatchObject({ byCaller: true });
    expect(cost(series(400, 'HOUR', 'UTC'), true).cost).toBeGreaterThan(5 * cost(series(400, 'HOUR', 'UTC'), false).cost);
  });

  it('back-fill rows stored before the rollups, in batches, while writes go on; statistics read rows until it is done', async () => {
    // Rows as an older database holds them: uncounted (the trigger takes them out of the rollups).
    await sql(Prisma.sql`UPDATE graph_executions SET in_rollups = false`);
    await sql(Prisma.sql`UPDATE node_executions SET in_rollups = false`);
    await markRollupsIncomplete(server.db.sql);
    await foldAllChanges(server.db.sql);
    const [left] = await server.db.sql.query<{ runs: number }>(Prisma.sql`SELECT coalesce(sum(runs), 0)::int AS runs FROM run_rollups`);
    expect(left!.runs).toBe(0);
    const before = await ok<{ executionStats: { percentileRelativeError: number; total: number } }>(WIDE, RECENT, admin);
    expect(before.executionStats.percentileRelativeError).toBe(0);

    const writes = (async () => {
      for (let i = 0; i < 5; i++) {
        const run = await execute(graphIds[1]!);
        await ok(RUN_STATUS, { id: run.id, status: 'RUNNING' });
      }
    })();
    const progress = await backfillRollups(server.db.sql, { batchSize: 7 });
    await writes;
    expect(progress.complete).toBe(true);
    expect(progress.runs).toBeGreaterThan(7);
    // The ranking index, grown by the back-fill's updates, is rebuilt (and still answers: the ranking test above).
    expect(progress.indexRebuilt).toBe(true);
    await expectRollupsExact();
    const after = await ok<{ executionStats: { percentileRelativeError: number; total: number } }>(WIDE, RECENT, admin);
    expect(after.executionStats).toEqual({ ...after.executionStats, percentileRelativeError: 0.02, total: before.executionStats.total + 5 });
  });
});
