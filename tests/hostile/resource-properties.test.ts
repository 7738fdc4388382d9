import fc from 'fast-check';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { parse, type OperationDefinitionNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDatabase } from '../../src/seed/index.js';
import { createCostModel } from '../../src/server/cost/operation-cost.js';
import { REQUEST_LIMITS } from '../../src/server/limits.js';
import { loadSchemaDocument } from '../../src/schema-files.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CaseCounter, codesOf } from './harness.js';

/**
 * The cost estimate is an upper bound of the work: for random documents over graphs, nodes, links, runs and node
 * executions (random page sizes, nesting through every relation), the fields in the answer never exceed the estimate,
 * and whatever is estimated over the limit is refused before it runs.
 */
const counter = new CaseCounter('resource-properties');
const schema = makeExecutableSchema({ typeDefs: loadSchemaDocument() });
const model = createCostModel(schema);

const estimate = (query: string) => {
  const document = parse(query);
  return model.analyze(document, document.definitions[0] as OperationDefinitionNode, {}, Number.MAX_SAFE_INTEGER).cost;
};

/** Fields answered: every key of every object in the data, list items included. */
function fieldsAnswered(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + fieldsAnswered(item), 0);
  if (value === null || typeof value !== 'object') return 0;
  return Object.values(value).reduce((sum: number, child) => sum + 1 + fieldsAnswered(child), 0);
}

const page = fc.integer({ min: 0, max: 8 });
const pick = (names: string[]) => fc.subarray(names, { minLength: 1 }).map((chosen) => chosen.join(' '));

type Selections = { graph: string; node: string; link: string; run: string; nodeRun: string; user: string };
const selections = fc.letrec<Selections>((tie) => {
  const nested = <T,>(arb: fc.Arbitrary<T>) => fc.option(arb, { freq: 2, depthSize: 'xsmall' });
  const join = (parts: Array<string | null>) => parts.filter(Boolean).join(' ');
  return {
    graph: fc
      .tuple(
        pick(['id', 'name', 'version', 'isActive', 'createdAt']),
        nested(tie('node').map((s) => `nodes { ${s} }`)),
        nested(tie('link').map((s) => `links { ${s} }`)),
        nested(fc.tuple(page, tie('run')).map(([n, s]) => `executions(first: ${n}) { totalCount pageInfo { hasNextPage } nodes { ${s} } }`)),
        nested(fc.tuple(page, pick(['id', 'version'])).map(([n, s]) => `versions(first: ${n}) { edges { cursor node { ${s} } } }`)),
      )
      .map(join),
    node: fc
      .tuple(
        pick(['id', 'blockId', 'nodeType', 'label', 'metadata', 'inputDefault']),
        nested(tie('link').map((s) => `inputLinks { ${s} }`)),
        nested(tie('link').map((s) => `outputLinks { ${s} }`)),
        nested(tie('graph').map((s) => `graph { ${s} }`)),
      )
      .map(join),
    link: fc
      .tuple(pick(['id', 'sourceName', 'sinkName', 'isStatic']), nested(tie('node').map((s) => `source { ${s} }`)), nested(tie('node').map((s) => `sink { ${s} }`)))
      .map(join),
    run: fc
      .tuple(
        pick(['id', 'status', 'cost', 'createdAt', 'inputs', 'outputs', 'durationMs']),
        nested(fc.tuple(page, tie('nodeRun')).map(([n, s]) => `nodeExecutions(first: ${n}) { nodes { ${s} } }`)),
        nested(tie('graph').map((s) => `graph { ${s} }`)),
        nested(tie('user').map((s) => `user { ${s} }`)),
      )
      .map(join),
    nodeRun: fc
      .tuple(pick(['id', 'status', 'cost', 'inputs', 'outputs']), nested(tie('node').map((s) => `node { ${s} }`)), nested(tie('run').map((s) => `graphExecution { ${s} }`)))
      .map(join),
    user: fc
      .tuple(
        pick(['id', 'email', 'name']),
        nested(fc.tuple(page, tie('graph')).map(([n, s]) => `graphs(first: ${n}) { nodes { ${s} } }`)),
        nested(fc.tuple(page, tie('run')).map(([n, s]) => `graphExecutions(first: ${n}) { nodes { ${s} } }`)),
      )
      .map(join),
  };
});

const documents = fc.oneof(
  fc.tuple(page, selections.graph).map(([n, s]) => `{ graphs(first: ${n}) { nodes { ${s} } } }`),
  fc.tuple(page, selections.run).map(([n, s]) => `{ graphExecutions(first: ${n}) { totalCount nodes { ${s} } } }`),
  selections.user.map((s) => `{ viewer { ${s} } }`),
);

describe.each(testDatabaseKinds)('estimated cost against the work done on %s', (kind) => {
  let server: TestServer;
  let adminKey: string;

  beforeAll(async () => {
    server = await startTestServer({ database: kind });
    const summary = await seedDatabase(server.db, { users: 2, graphsPerUser: 6, executions: 150, sessions: 0, maxEventsPerSession: 1, seed: 11, days: 10, now: Date.parse('2026-06-01T00:00:00Z') });
    adminKey = summary.apiKeys.find((k) => k.permissions.includes('ADMIN'))!.key;
  });
  afterAll(async () => {
    counter.report();
    await server?.close();
  });

  it('never answers more fields than estimated, and refuses what is estimated over the limit', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(documents, async (query) => {
        counter.count++;
        const cost = estimate(query);
        const res = await server.graphql(query, undefined, adminKey);
        // Depth is judged first: a document too deep is refused as such, whatever its cost (and one over 20,000
        // characters or 5,000 tokens is not even parsed).
        if (codesOf(res).some((code) => code === 'QUERY_TOO_DEEP' || code === 'QUERY_TOO_LONG' || code === 'GRAPHQL_PARSE_FAILED')) return;
        if (cost > REQUEST_LIMITS.maxCost) {
          expect(codesOf(res)).toEqual(['QUERY_TOO_COMPLEX']);
          return;
        }
        expect(res.errors, query).toBeUndefined();
        answered++;
        expect(fieldsAnswered(res.data), query).toBeLessThanOrEqual(cost);
      }),
      { numRuns: 80, seed: 20261205, endOnFailure: true },
    );
    expect(answered).toBeGreaterThan(20);
  });
});
