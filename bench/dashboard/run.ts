/**
 * Dashboard benchmark: `npm run bench:dashboard [-- --size demo|large]`.
 *
 * Seeds a fresh PostgreSQL database (demo size: the embedded demo's data; large: 200 users, ~1M node executions),
 * starts the real server and measures over HTTP the dashboard query of the graph API issue — 50 graphs, each with
 * its nodes, links and 10 latest executions with their node executions — counting the SQL statements it issues.
 */
import { DASHBOARD_QUERY } from '../../tests/api/dashboard-query.js';
import { DEMO_SEED_OPTIONS, seedDatabase } from '../../src/seed/index.js';
import { createBenchDatabase, markdownTable, measure, startBenchServer, writeResults } from '../lib/harness.js';

const size = process.argv.includes('large') || process.argv.includes('--large') ? 'large' : 'demo';
const options =
  size === 'large'
    ? { users: 200, graphsPerUser: 10, executions: 108_000, sessions: 0, maxEventsPerSession: 1, seed: 7, days: 90 }
    : { ...DEMO_SEED_OPTIONS };

const bench = await createBenchDatabase('agentgraph_bench_dashboard');
try {
  const seedStarted = Date.now();
  const summary = await seedDatabase(bench.db, { ...options, now: Date.now() });
  const seedMs = Date.now() - seedStarted;
  const admin = summary.apiKeys.find((k) => k.permissions.includes('ADMIN'))!;
  const { server, post } = await startBenchServer(bench.db);

  // Statement count of one request (after a warm-up that records the key's use).
  await post(DASHBOARD_QUERY, {}, admin.key);
  const statements: string[] = [];
  const stop = bench.db.onQuery((e) => statements.push(e.query));
  await post(DASHBOARD_QUERY, {}, admin.key);
  stop();

  const latency = await measure(() => post(DASHBOARD_QUERY, {}, admin.key), { warmup: 20, n: 200 });
  await server.stop();

  const table = markdownTable(
    ['size', 'graph executions', 'node executions', 'statements / request', 'p50 ms', 'p95 ms', 'p99 ms'],
    [[size, summary.counts.graphExecutions, summary.counts.nodeExecutions, statements.length, latency.p50, latency.p95, latency.p99]],
  );
  const report = `# Dashboard query benchmark (${new Date().toISOString()})\n\nPostgreSQL, seeded in ${seedMs} ms. 200 sequential requests after 20 warm-up requests.\n\n${table}\n`;
  console.log(report);
  console.log(`written to ${writeResults(`dashboard-${size}`, report)}`);
} finally {
  await bench.drop();
}
