import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDatabase } from '../../src/seed/index.js';
import { DASHBOARD_QUERY } from './dashboard-query.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';


type Dashboard = {
  graphs: { nodes: Array<{ nodes: unknown[]; links: unknown[]; executions: { nodes: Array<{ nodeExecutions: { nodes: unknown[] } }> } }> };
};

/**
 * Statements per level: API key lookup, graphs page with each graph's executions (look-ahead: a JSON column per
 * graph), owners, nodes, links, node executions (LATERAL per run). Node and link endpoints come from the primed
 * node loader.
 */
const EXPECTED_STATEMENTS = 6;

describe.each(testDatabaseKinds)('statement count of the dashboard query on %s', (kind) => {
  let server: TestServer;
  let adminKey: string;

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    const summary = await seedDatabase(server.db, { users: 3, graphsPerUser: 20, executions: 1500, sessions: 0, maxEventsPerSession: 1, seed: 9, days: 30, now: Date.parse('2026-06-01T00:00:00Z') });
    adminKey = summary.apiKeys.find((k) => k.permissions.includes('ADMIN'))!.key;
    // Records the key's use now, so the measured request does not write lastUsedAt.
    await server.graphql('{ viewer { id } }', undefined, adminKey);
    await new Promise((resolve) => setTimeout(resolve, 200));
  });
  afterAll(() => server?.close());

  const measure = async () => {
    const statements: string[] = [];
    const stop = server.db.onQuery((event) => statements.push(event.query));
    try {
      const res = await server.graphql<Dashboard>(DASHBOARD_QUERY, undefined, adminKey);
      expect(res.errors).toBeUndefined();
      return { statements, data: res.data! };
    } finally {
      stop();
    }
  };

  it('issues a fixed number of statements, whatever the number of rows', async () => {
    const { statements, data } = await measure();
    const graphs = data.graphs.nodes;
    expect(graphs).toHaveLength(10);
    const runs = graphs.flatMap((g) => g.executions.nodes);
    expect(runs.length, 'runs').toBeGreaterThan(30);
    expect(runs.flatMap((r) => r.nodeExecutions.nodes).length, 'node executions').toBeGreaterThan(100);
    expect(statements, statements.join('\n---\n')).toHaveLength(EXPECTED_STATEMENTS);
  });

  it('does not grow with more rows', async () => {
    await seedDatabase(server.db, { users: 1, graphsPerUser: 10, executions: 800, sessions: 0, maxEventsPerSession: 1, seed: 8, days: 5, now: Date.now() });
    const { statements } = await measure();
    expect(statements).toHaveLength(EXPECTED_STATEMENTS);
  });
});
