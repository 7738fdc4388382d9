/**
 * Every GraphQL example of the README runs on a freshly seeded demo database, in the README's order, over HTTP, as
 * the demo's admin key, and answers data: no error, and something found (a list with rows, statistics of runs, a
 * mutation applied). Variables come from earlier answers exactly as each example's comment tells a reader; a
 * subscription is opened over SSE and sees the writes its comment names. tests/docs/readme.test.ts checks the same
 * documents against the schema and the server's limits without a server.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseKinds } from '../helpers/databases.js';
import { ANONYMOUS, persistedDocumentCurl, readmeOperations, send, startDemoServer, subscribe, type Answer, type DemoServer, type ReadmeOperation } from './readme-examples.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DAY = 24 * 3_600_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY).toISOString();

// Answers loosely typed: each recipe reads the fields its example selects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Data = any;
/** The latest answer of each example by operation name. */
type Answers = Record<string, Data>;

type Recipe = {
  /** Where the variables come from: the README comment's instructions, applied to the answers so far. */
  variables?: (answers: Answers) => Record<string, unknown>;
  /** What the answer must hold beyond "no errors, root fields present, root lists not empty". */
  check?: (data: Data, answers: Answers, variables: Record<string, unknown>) => void;
};

type SubscriptionRecipe = Recipe & {
  /** The README examples run while it listens (the ones its comment names), and the variables they are given. */
  trigger?: Array<[operation: string, variables: (answers: Answers) => Record<string, unknown>]>;
  /** When it has delivered what the example promises. */
  delivered: (events: Data[], answers: Answers) => boolean;
};

const isFailure = (status: string) => status === 'FAILED' || status === 'TERMINATED';
const FAILURES_SINCE = daysAgo(30);

const QUERIES_AND_MUTATIONS: Record<string, Recipe> = {
  [ANONYMOUS]: { check: (data) => expect(data.viewer.permissions).toContain('ADMIN') },
  Dashboard: {
    check: (data) => expect(data.graphs.nodes.some((graph: Data) => graph.executions.nodes.some((run: Data) => run.nodeExecutions.nodes.length > 0))).toBe(true),
  },
  Failures: {
    // "a graph with a FAILED run of the last 30 days in Dashboard's answer"
    variables: (answers) => {
      const graph = answers.Dashboard.graphs.nodes.find((g: Data) => g.executions.nodes.some((run: Data) => run.status === 'FAILED' && run.createdAt >= FAILURES_SINCE));
      expect(graph, 'a graph of Dashboard with a FAILED run in the last 30 days').toBeDefined();
      return { graphId: graph.id, since: FAILURES_SINCE };
    },
    check: (data) => expect(data.graphExecutions.nodes.every((run: Data) => isFailure(run.status))).toBe(true),
  },
  Run: {
    variables: (answers) => ({ id: answers.Failures.graphExecutions.nodes[0].id }),
    check: (data) => expect(data.graphExecution.nodeExecutions.nodes.length).toBeGreaterThan(0),
  },
  CreateGraph: { check: (data) => expect(data.createGraph.graph).toMatchObject({ version: 1, isActive: true }) },
  Execute: {
    variables: (answers) => ({ graphId: answers.CreateGraph.createGraph.graph.id }),
    check: (data) => {
      const run = data.executeGraph.graphExecution;
      expect(run.status).toBe('QUEUED');
      expect(run.nodeExecutions.nodes.map((n: Data) => n.status)).toEqual(['INCOMPLETE', 'INCOMPLETE', 'INCOMPLETE', 'INCOMPLETE']);
    },
  },
  StartRun: {
    variables: (answers) => ({ id: answers.Execute.executeGraph.graphExecution.id }),
    check: (data) => expect(data.updateGraphExecution.graphExecution).toMatchObject({ status: 'RUNNING', startedAt: expect.any(String) }),
  },
  StartNode: {
    variables: (answers) => ({ id: answers.Execute.executeGraph.graphExecution.nodeExecutions.nodes[0].id }),
    check: (data) => expect(data.updateNodeExecution.nodeExecution).toMatchObject({ status: 'RUNNING', startedAt: expect.any(String) }),
  },
  FinishNode: {
    variables: (answers) => ({ id: answers.Execute.executeGraph.graphExecution.nodeExecutions.nodes[0].id }),
    check: (data) => expect(data.updateNodeExecution.nodeExecution).toMatchObject({ status: 'COMPLETED', endedAt: expect.any(String), graphExecution: { cost: 3 } }),
  },
  Sessions: {
    check: (data) => {
      expect(data.sessions.nodes.every((session: Data) => session.status === 'ACTIVE')).toBe(true);
      // The demo's support-bot team: a lead and members pointing at it.
      expect(data.sessions.nodes.filter((session: Data) => session.teamSession).length).toBeGreaterThanOrEqual(2);
    },
  },
  SessionEvents: {
    variables: (answers) => ({ id: answers.Sessions.sessions.nodes[0].id }),
    check: (data) => {
      const events = data.session.events.nodes;
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((event: Data) => event.branch === 'root.support_agent' || event.branch.startsWith('root.support_agent.'))).toBe(true);
    },
  },
  Append: {
    variables: (answers) => ({ id: answers.Sessions.sessions.nodes[0].id, version: answers.Sessions.sessions.nodes[0].version }),
    check: (data, answers, variables) => {
      expect(data.appendSessionEvents.events).toHaveLength(2);
      expect(data.appendSessionEvents.session.version).toBeGreaterThan(variables.version as number);
      expect(data.appendSessionEvents.session.eventCount).toBe(answers.Sessions.sessions.nodes[0].eventCount + 2);
      expect(data.appendSessionEvents.session.state).toMatchObject({ step: 2 });
    },
  },
  Stats: {
    variables: () => ({ from: daysAgo(90), to: new Date().toISOString() }),
    check: (data) => {
      const stats = data.executionStats;
      expect(stats.total).toBeGreaterThan(0);
      expect(stats.timeSeries.length).toBeGreaterThanOrEqual(90);
      expect(stats.timeSeries.some((point: Data) => point.total > 0)).toBe(true);
      expect(stats.topGraphs.length).toBeGreaterThan(0);
      expect(stats.blocks.length).toBeGreaterThan(0);
    },
  },
  GraphStats: {
    variables: () => ({ from: daysAgo(30), to: new Date().toISOString() }),
    check: (data) => expect(data.graphs.nodes.some((graph: Data) => graph.stats.runs > 0)).toBe(true),
  },
};

const SUBSCRIPTIONS: Record<string, SubscriptionRecipe> = {
  // "start one with Execute and StartRun above, and it shows here"
  Runs: {
    trigger: [
      ['Execute', (answers) => ({ graphId: answers.CreateGraph.createGraph.graph.id })],
      ['StartRun', (answers) => ({ id: answers.Execute.executeGraph.graphExecution.id })],
    ],
    delivered: (events, answers) => events.some((e) => e.graphExecutionUpdated.status === 'RUNNING' && e.graphExecutionUpdated.graphExecution.id === answers.Execute.executeGraph.graphExecution.id),
  },
  // "as they change (StartNode, FinishNode)", on Execute's run
  Nodes: {
    variables: (answers) => ({ run: answers.Execute.executeGraph.graphExecution.id }),
    trigger: [
      ['StartNode', (answers) => ({ id: answers.Execute.executeGraph.graphExecution.nodeExecutions.nodes[1].id })],
      ['FinishNode', (answers) => ({ id: answers.Execute.executeGraph.graphExecution.nodeExecutions.nodes[1].id })],
    ],
    delivered: (events) => ['RUNNING', 'COMPLETED'].every((status) => events.some((e) => e.nodeExecutionUpdated.status === status)),
  },
  // The stored events from the first on: all of the session's, the README's append included.
  Events: {
    variables: (answers) => ({ session: answers.Sessions.sessions.nodes[0].id }),
    delivered: (events, answers) => events.length >= answers.Append.appendSessionEvents.session.eventCount,
  },
};

/** No errors, every root field answered, and every root list (a connection's nodes) with at least one row. */
function expectData(name: string, answer: Answer): void {
  expect({ status: answer.status, errors: answer.errors }, name).toEqual({ status: 200, errors: undefined });
  for (const [field, value] of Object.entries(answer.data ?? {})) {
    expect(value, `${name}: ${field}`).not.toBeNull();
    const nodes = (value as { nodes?: unknown[] }).nodes;
    if (Array.isArray(nodes)) expect(nodes.length, `${name}: ${field}.nodes`).toBeGreaterThan(0);
  }
  expect(answer.data, name).toBeTruthy();
}

describe('README examples', () => {
  it('each has a recipe here, and each recipe an example there', () => {
    const known = [...Object.keys(QUERIES_AND_MUTATIONS), ...Object.keys(SUBSCRIPTIONS)].sort();
    expect(readmeOperations.map((operation) => operation.name).sort()).toEqual(known);
    for (const operation of readmeOperations) expect(operation.name in SUBSCRIPTIONS, operation.name).toBe(operation.kind === 'subscription');
  });
});

describe.each(testDatabaseKinds)('README examples on a freshly seeded demo database (%s)', (kind) => {
  let server: DemoServer;
  const answers: Answers = {};
  const byName = new Map(readmeOperations.map((operation) => [operation.name, operation]));

  const run = async (operation: ReadmeOperation, recipe: Recipe): Promise<void> => {
    const variables = recipe.variables?.(answers) ?? {};
    const answer = await send(server, operation, variables);
    expectData(operation.name, answer);
    recipe.check?.(answer.data, answers, variables);
    answers[operation.name] = answer.data;
  };

  beforeAll(async () => {
    server = await startDemoServer(kind);
  }, 180_000);
  afterAll(async () => {
    await server?.close();
  });

  it.each(readmeOperations.map((operation) => [operation.name, operation] as const))('%s answers data', async (name, operation) => {
    if (operation.kind !== 'subscription') return run(operation, QUERIES_AND_MUTATIONS[name]!);
    const recipe = SUBSCRIPTIONS[name]!;
    const subscription = await subscribe(server, operation, recipe.variables?.(answers) ?? {});
    try {
      for (const [trigger, variables] of recipe.trigger ?? []) await run(byName.get(trigger)!, { ...QUERIES_AND_MUTATIONS[trigger], variables });
      await subscription.waitUntil((results) => results.some((r) => r.errors) || recipe.delivered(results.map((r) => r.data), answers), 'what the example promises');
      for (const result of subscription.results) expectData(name, result);
    } finally {
      await subscription.stop();
    }
  });

  it("the persisted document's curl answers the dashboard's viewer", async () => {
    const command = persistedDocumentCurl().replace('localhost:4000', new URL(server.url).host);
    const { stdout } = await promisify(execFile)('bash', ['-c', command], { cwd: root, env: { ...process.env, KEY: server.key } });
    const answer = JSON.parse(stdout) as Answer;
    expectData('curl', { ...answer, status: 200 });
    expect(answer.data).toMatchObject({ viewer: { permissions: expect.arrayContaining(['ADMIN']) } });
  });
});
