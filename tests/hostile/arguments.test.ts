import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraph } from '../helpers/factories.js';
import { testDatabaseKinds } from '../helpers/databases.js';
import type { TestServer } from '../helpers/server.js';
import { snapshotDatabase } from '../helpers/snapshot.js';
import { CaseCounter, errorsOf, INJECTION_STRINGS, nestedObject, UNSTORABLE_STRINGS, type HostileClient } from './harness.js';
import { openHostileServer, type HostileWorld } from './world.js';

/**
 * Hostile values in every argument of every mutation and query: unstorable strings (NUL, lone surrogates),
 * SQL/LIKE/JSON-path look-alikes (taken literally), wrong scalar types, unknown fields, huge strings and arrays,
 * out-of-range page sizes, and other users' ids. Refused input leaves the database exactly as it was.
 */

const counter = new CaseCounter('arguments');
afterAll(() => counter.report());

type Slot = { label: string; query: string; variables: (s: string) => Record<string, unknown> };

const INT32 = 2 ** 31;

describe.each(testDatabaseKinds)('hostile arguments on %s', (kind) => {
  let server: TestServer;
  let w: HostileWorld;
  let c: HostileClient;

  beforeAll(async () => {
    ({ server, world: w, client: c } = await openHostileServer(kind, counter));
    for (const name of ['100% pure', 'a_b graph', 'back\\slash', "it's"]) await createGraph(server.db, server.userId, { name });
  });
  afterAll(() => server?.close());

  /** Every string (and string inside JSON) a mutation stores. */
  const mutationSlots = (): Slot[] => {
    const graph = (patch: (s: string) => Record<string, unknown>) => (s: string) => ({
      input: { name: 'g', nodes: [{ key: 'a', blockId: 'b' }, { key: 'c', blockId: 'd' }], links: [{ source: 'a', sink: 'c', sourceName: 'o', sinkName: 'i' }], ...patch(s) },
    });
    const node = (field: string, wrap = (s: string): unknown => s) => graph((s) => ({ nodes: [{ key: 'a', blockId: 'b', [field]: wrap(s) }, { key: 'c', blockId: 'd' }] }));
    const link = (field: string) => graph((s) => ({ links: [{ source: 'a', sink: 'c', sourceName: 'o', sinkName: 'i', [field]: s }] }));
    const CREATE_GRAPH = 'mutation($input: GraphInput!) { createGraph(input: $input) { graph { id } } }';
    const UPDATE_GRAPH = `mutation($input: GraphInput!) { updateGraph(id: "${w.A.graphId}", input: $input) { graph { id } } }`;
    const session = (field: string, wrap = (s: string): unknown => s) => (s: string) => ({ input: { appName: 'app', [field]: wrap(s) } });
    const event = (field: string, wrap = (s: string): unknown => s) => (s: string) => ({ id: w.sessions.A, events: [{ author: 'a', [field]: wrap(s) }] });
    const APPEND = 'mutation($id: ID!, $events: [SessionEventInput!]!) { appendSessionEvents(sessionId: $id, events: $events) { session { id } } }';
    const inObject = (s: string) => ({ v: s });
    const asKey = (s: string) => ({ [s]: 1 });
    const deepIn = (s: string) => ({ a: [{ b: { c: [s] } }] });
    const slots: Slot[] = [
      { label: 'createGraph.name', query: CREATE_GRAPH, variables: graph((s) => ({ name: s })) },
      { label: 'createGraph.description', query: CREATE_GRAPH, variables: graph((s) => ({ description: s })) },
      { label: 'createGraph.nodes.key', query: CREATE_GRAPH, variables: graph((s) => ({ nodes: [{ key: s, blockId: 'b' }] })) },
      { label: 'createGraph.nodes.blockId', query: CREATE_GRAPH, variables: node('blockId') },
      { label: 'createGraph.nodes.label', query: CREATE_GRAPH, variables: node('label') },
      { label: 'createGraph.nodes.inputDefault value', query: CREATE_GRAPH, variables: node('inputDefault', inObject) },
      { label: 'createGraph.nodes.inputDefault key', query: CREATE_GRAPH, variables: node('inputDefault', asKey) },
      { label: 'createGraph.nodes.metadata deep', query: CREATE_GRAPH, variables: node('metadata', deepIn) },
      { label: 'createGraph.links.sourceName', query: CREATE_GRAPH, variables: link('sourceName') },
      { label: 'createGraph.links.sinkName', query: CREATE_GRAPH, variables: link('sinkName') },
      { label: 'updateGraph.name', query: UPDATE_GRAPH, variables: graph((s) => ({ name: s })) },
      { label: 'updateGraph.nodes.metadata key', query: UPDATE_GRAPH, variables: node('metadata', asKey) },
      { label: 'createApiKey.name', query: 'mutation($s: String!) { createApiKey(name: $s, permissions: [READ_GRAPHS]) { apiKey { id } } }', variables: (s) => ({ s }) },
      { label: 'executeGraph.inputs value', query: `mutation($v: JSONObject) { executeGraph(graphId: "${w.A.graphId}", inputs: $v) { graphExecution { id } } }`, variables: (s) => ({ v: inObject(s) }) },
      { label: 'executeGraph.inputs key', query: `mutation($v: JSONObject) { executeGraph(graphId: "${w.A.graphId}", inputs: $v) { graphExecution { id } } }`, variables: (s) => ({ v: asKey(s) }) },
      { label: 'updateGraphExecution.errorMessage', query: `mutation($s: String) { updateGraphExecution(id: "${w.A.runId}", status: RUNNING, errorMessage: $s) { graphExecution { id } } }`, variables: (s) => ({ s }) },
      { label: 'updateGraphExecution.outputs', query: `mutation($v: JSON) { updateGraphExecution(id: "${w.A.runId}", status: RUNNING, outputs: $v) { graphExecution { id } } }`, variables: (s) => ({ v: s }) },
      { label: 'updateGraphExecution.stats', query: `mutation($v: JSONObject) { updateGraphExecution(id: "${w.A.runId}", status: RUNNING, stats: $v) { graphExecution { id } } }`, variables: (s) => ({ v: deepIn(s) }) },
      { label: 'updateNodeExecution.errorMessage', query: `mutation($s: String) { updateNodeExecution(id: "${w.A.nodeExecutionIds[0]}", status: QUEUED, errorMessage: $s) { nodeExecution { id } } }`, variables: (s) => ({ s }) },
      { label: 'updateNodeExecution.inputs', query: `mutation($v: JSONObject) { updateNodeExecution(id: "${w.A.nodeExecutionIds[0]}", status: QUEUED, inputs: $v) { nodeExecution { id } } }`, variables: (s) => ({ v: asKey(s) }) },
      { label: 'updateNodeExecution.outputs', query: `mutation($v: JSON) { updateNodeExecution(id: "${w.A.nodeExecutionIds[0]}", status: QUEUED, outputs: $v) { nodeExecution { id } } }`, variables: (s) => ({ v: [s] }) },
      { label: 'createSession.appName', query: 'mutation($input: CreateSessionInput!) { createSession(input: $input) { session { id } } }', variables: (s) => ({ input: { appName: s } }) },
      { label: 'createSession.agentId', query: 'mutation($input: CreateSessionInput!) { createSession(input: $input) { session { id } } }', variables: session('agentId') },
      { label: 'createSession.metadata', query: 'mutation($input: CreateSessionInput!) { createSession(input: $input) { session { id } } }', variables: session('metadata', inObject) },
      { label: 'createSession.state key', query: 'mutation($input: CreateSessionInput!) { createSession(input: $input) { session { id } } }', variables: session('state', asKey) },
      { label: 'createSession.state deep', query: 'mutation($input: CreateSessionInput!) { createSession(input: $input) { session { id } } }', variables: session('state', deepIn) },
      { label: 'updateSession.appName', query: `mutation($input: UpdateSessionInput!) { updateSession(id: "${w.sessions.A}", input: $input) { session { id } } }`, variables: (s) => ({ input: { appName: s } }) },
      { label: 'updateSession.agentId', query: `mutation($input: UpdateSessionInput!) { updateSession(id: "${w.sessions.A}", input: $input) { session { id } } }`, variables: (s) => ({ input: { agentId: s } }) },
      { label: 'updateSession.metadata', query: `mutation($input: UpdateSessionInput!) { updateSession(id: "${w.sessions.A}", input: $input) { session { id } } }`, variables: (s) => ({ input: { metadata: deepIn(s) } }) },
      { label: 'updateSession.state', query: `mutation($input: UpdateSessionInput!) { updateSession(id: "${w.sessions.A}", input: $input) { session { id } } }`, variables: (s) => ({ input: { state: asKey(s) } }) },
      { label: 'appendSessionEvents.author', query: APPEND, variables: event('author') },
      { label: 'appendSessionEvents.invocationId', query: APPEND, variables: event('invocationId') },
      { label: 'appendSessionEvents.agentId', query: APPEND, variables: event('agentId') },
      { label: 'appendSessionEvents.branch', query: APPEND, variables: event('branch') },
      { label: 'appendSessionEvents.clientEventId', query: APPEND, variables: event('clientEventId') },
      { label: 'appendSessionEvents.content', query: APPEND, variables: event('content') },
      { label: 'appendSessionEvents.content deep', query: APPEND, variables: event('content', deepIn) },
      { label: 'appendSessionEvents.actions', query: APPEND, variables: event('actions', inObject) },
      { label: 'appendSessionEvents.actions.stateDelta key', query: APPEND, variables: event('actions', (s) => ({ stateDelta: asKey(s) })) },
      { label: 'appendSessionEvents.metadata key', query: APPEND, variables: event('metadata', asKey) },
      { label: 'appendSessionEvents second event of the batch', query: APPEND, variables: (s) => ({ id: w.sessions.A, events: [{ author: 'ok', content: { fine: true } }, { author: 'a', content: { v: s } }] }) },
    ];
    return slots;
  };

  it('unstorable strings (NUL, lone surrogates) anywhere a mutation stores text or JSON → BAD_USER_INPUT, nothing written', async () => {
    for (const slot of mutationSlots()) {
      for (const [what, value] of UNSTORABLE_STRINGS) {
        await c.refusedUnchanged(server.db, `${slot.label} with ${what}`, () => c.op(slot.query, slot.variables(value)), ['BAD_USER_INPUT']);
      }
    }
  });

  it('unstorable strings in filters and lookups are refused or match nothing, never an internal error', async () => {
    const lookups: Slot[] = [
      { label: 'graphs.filter.nameContains', query: 'query($s: String) { graphs(filter: { nameContains: $s }) { totalCount nodes { id } } }', variables: (s) => ({ s }) },
      { label: 'viewer.graphs.filter.nameContains', query: 'query($s: String) { viewer { graphs(filter: { nameContains: $s }) { totalCount } } }', variables: (s) => ({ s }) },
      { label: 'sessions.filter.appName', query: 'query($s: String) { sessions(filter: { appName: $s }) { totalCount } }', variables: (s) => ({ s }) },
      { label: 'sessions.filter.agentId', query: 'query($s: String) { sessions(filter: { agentId: $s }) { totalCount } }', variables: (s) => ({ s }) },
      { label: 'sessions.filter.metadataContains', query: 'query($v: JSONObject) { sessions(filter: { metadataContains: $v }) { totalCount } }', variables: (s) => ({ v: { team: s } }) },
      { label: 'sessions.filter.metadataContains key', query: 'query($v: JSONObject) { sessions(filter: { metadataContains: $v }) { totalCount } }', variables: (s) => ({ v: { [s]: 1 } }) },
      ...(['invocationId', 'agentId', 'author', 'branch'] as const).map((field) => ({
        label: `session.events.filter.${field}`,
        query: `query($id: ID!, $s: String) { session(id: $id) { events(filter: { ${field}: $s }) { totalCount nodes { id } } } }`,
        variables: (s: string) => ({ id: w.sessions.A, s }),
      })),
      { label: 'executionStats.timezone', query: 'query($s: String) { executionStats(filter: { from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z" }, timezone: $s) { total } }', variables: (s) => ({ s }) },
      ...(['graph', 'graphExecution', 'nodeExecution', 'session'] as const).map((field) => ({ label: `${field}(id)`, query: `query($s: ID!) { ${field}(id: $s) { id } }`, variables: (s: string) => ({ s }) })),
      { label: 'graphs.filter.ownerId', query: 'query($s: ID) { graphs(filter: { ownerId: $s }) { totalCount } }', variables: (s) => ({ s }) },
      { label: 'graphExecutions.filter.graphId', query: 'query($s: ID) { graphExecutions(filter: { graphId: $s }) { totalCount } }', variables: (s) => ({ s }) },
      { label: 'sessions.filter.teamSessionId', query: 'query($s: ID) { sessions(filter: { teamSessionId: $s }) { totalCount } }', variables: (s) => ({ s }) },
      { label: 'deleteSessions.filter.appName', query: 'mutation($s: String) { deleteSessions(filter: { appName: $s }) { deletedCount } }', variables: (s) => ({ s }) },
    ];
    const before = await snapshotDatabase(server.db);
    for (const slot of lookups) {
      for (const [what, value] of [...UNSTORABLE_STRINGS, ['empty', ''], ['4 KB', 'x'.repeat(4096)], ['200 KB', 'y'.repeat(200_000)]] as Array<[string, string]>) {
        const res = await c.op(slot.query, slot.variables(value));
        if (c.expectAnswered(res, `${slot.label} with ${what}`) === 'ok' && !(what === 'empty' && slot.label.includes('nameContains'))) {
          expect.soft(JSON.stringify(res.json), `${slot.label} with ${what} found rows`).not.toMatch(/"totalCount":[1-9]|"deletedCount":[1-9]|"id":"/);
        }
      }
    }
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('SQL-, LIKE- and JSON-path-looking strings are taken literally in every filter', async () => {
    const names = (await server.db.prisma.graph.findMany({ where: { userId: server.userId, isActive: true } })).map((g) => g.name.toLowerCase());
    const before = await snapshotDatabase(server.db);
    for (const s of INJECTION_STRINGS) {
      const graphs = await c.op('query($s: String) { graphs(first: 100, filter: { nameContains: $s }) { totalCount nodes { name } } }', { s });
      if (c.expectAnswered(graphs, `nameContains ${s}`) !== 'ok') continue;
      const expected = names.filter((n) => n.includes(s.toLowerCase())).length;
      expect.soft((graphs.json as { data: { graphs: { totalCount: number } } }).data.graphs.totalCount, `nameContains ${JSON.stringify(s)} must match literally`).toBe(expected);

      for (const [label, query, variables, expectedCount] of [
        ['sessions.appName', 'query($s: String) { sessions(filter: { appName: $s }) { totalCount } }', { s }, 0],
        ['sessions.agentId', 'query($s: String) { sessions(filter: { agentId: $s }) { totalCount } }', { s }, 0],
        ['sessions.metadataContains key', 'query($v: JSONObject) { sessions(filter: { metadataContains: $v }) { totalCount } }', { v: { [s]: 1 } }, 0],
        ['sessions.metadataContains value', 'query($v: JSONObject) { sessions(filter: { metadataContains: $v }) { totalCount } }', { v: { team: s } }, 0],
        ['events.branch', `query($s: String) { session(id: "${w.sessions.A}") { events(filter: { branch: $s }) { totalCount } } }`, { s }, 0],
        ['events.author', `query($s: String) { session(id: "${w.sessions.A}") { events(filter: { author: $s }) { totalCount } } }`, { s }, 0],
        ['events.invocationId', `query($s: String) { session(id: "${w.sessions.A}") { events(filter: { invocationId: $s }) { totalCount } } }`, { s }, 0],
      ] as const) {
        const res = await c.op(query, variables);
        if (c.expectAnswered(res, `${label} ${s}`) === 'ok') {
          expect.soft(JSON.stringify(res.json).match(/"totalCount":(\d+)/)?.[1], `${label} ${JSON.stringify(s)} must match literally`).toBe(String(expectedCount));
        }
      }
      const tz = await c.op('query($s: String) { executionStats(filter: { from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z" }, timezone: $s) { total } }', { s });
      c.expectRefusal(tz, `timezone ${s}`, ['BAD_USER_INPUT']);
    }
    // The branch prefix is on whole segments, wildcards literal: `root_a` and `root.%` match nothing, `root.a` its own.
    for (const [branch, expected] of [['root_a', 0], ['root.%', 0], ['root.a', 2], ['root', 5], ['root.a_', 0]] as const) {
      const res = await c.op(`query($s: String) { session(id: "${w.sessions.A}") { events(filter: { branch: $s }) { totalCount } } }`, { s: branch });
      expect(c.expectAnswered(res, `branch ${branch}`)).toBe('ok');
      expect.soft((res.json as { data: { session: { events: { totalCount: number } } } }).data.session.events.totalCount, `branch ${branch}`).toBe(expected);
    }
    expect(await snapshotDatabase(server.db)).toEqual(before);
  });

  it('negative, fractional and huge page sizes on every connection → BAD_USER_INPUT; none runs', async () => {
    const connections = [
      ['graphs', (a: string) => `{ graphs(${a}) { totalCount } }`],
      ['graphExecutions', (a: string) => `{ graphExecutions(${a}) { totalCount } }`],
      ['sessions', (a: string) => `{ sessions(${a}) { totalCount } }`],
      ['viewer.graphs', (a: string) => `{ viewer { graphs(${a}) { totalCount } } }`],
      ['viewer.graphExecutions', (a: string) => `{ viewer { graphExecutions(${a}) { totalCount } } }`],
      ['viewer.apiKeys', (a: string) => `{ viewer { apiKeys(${a}) { totalCount } } }`],
      ['viewer.sessions', (a: string) => `{ viewer { sessions(${a}) { totalCount } } }`],
      ['graph.versions', (a: string) => `{ graph(id: "${w.A.graphId}") { versions(${a}) { totalCount } } }`],
      ['graph.executions', (a: string) => `{ graph(id: "${w.A.graphId}") { executions(${a}) { totalCount } } }`],
      ['graphExecution.nodeExecutions', (a: string) => `{ graphExecution(id: "${w.A.runId}") { nodeExecutions(${a}) { totalCount } } }`],
      ['session.memberSessions', (a: string) => `{ session(id: "${w.sessions.A}") { memberSessions(${a}) { totalCount } } }`],
      ['session.events', (a: string) => `{ session(id: "${w.sessions.A}") { events(${a}) { totalCount } } }`],
    ] as const;
    const values = ['-1', '-2147483648', '101', '2147483647', String(INT32), '1e20', '1.5', '"10"', 'true', '[1]', '{ a: 1 }', String(-INT32 - 1), '99999999999999999999999'];
    for (const [label, query] of connections) {
      for (const value of values) {
        c.expectRefusal(await c.op(query(`first: ${value}`)), `${label} first: ${value}`, ['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_COMPLEX']);
      }
      // As variables too (Int coercion happens elsewhere than for literals).
      for (const value of [-1, 101, INT32, 1e20, 1.5, -0.5, '10', Number.MAX_SAFE_INTEGER]) {
        const variableQuery = query('first: $n').replace(/^\{/, 'query($n: Int) {');
        c.expectRefusal(await c.op(variableQuery, { n: value }), `${label} first=$n ${value}`, ['BAD_USER_INPUT', 'QUERY_TOO_COMPLEX']);
      }
      const zero = await c.op(query('first: 0'));
      expect.soft(c.expectAnswered(zero, `${label} first: 0`), `${label} first: 0 → ${zero.text.slice(0, 300)}`).toBe('ok');
    }
    for (const value of [-1, 101, INT32, 1e20]) {
      c.expectRefusal(await c.op(`query($n: Int) { session(id: "${w.sessions.A}") { events(last: $n) { totalCount } } }`, { n: value }), `events last ${value}`, ['BAD_USER_INPUT']);
    }
    c.expectRefusal(await c.op(`{ session(id: "${w.sessions.A}") { events(first: 1, last: 1) { totalCount } } }`), 'first and last', ['BAD_USER_INPUT']);
    for (const [arg, value] of [['limit', -1], ['limit', INT32], ['limit', 1e20], ['limit', 0], ['limit', 100_000], ['minRuns', -1]] as const) {
      const res = await c.op(`query($n: Int) { executionStats(filter: { from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z" }) { blocks(${arg}: $n) { blockId } topGraphs(limit: 5) { runs } } }`, { n: value });
      c.expectRefusal(res, `stats blocks ${arg} ${value}`, ['BAD_USER_INPUT']);
    }
  });

  it('wrong scalar types, unknown fields, missing and null required fields → BAD_USER_INPUT / validation errors, nothing written', async () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [];
    const add = (label: string, query: string, variables: Record<string, unknown>) => cases.push([label, query, variables]);
    const GRAPH = 'mutation($input: GraphInput!) { createGraph(input: $input) { graph { id } } }';
    const node = { key: 'a', blockId: 'b' };
    for (const bad of [{}, [], 1.5, true, null, ['x']]) add(`graph(id: ${JSON.stringify(bad)})`, 'query($id: ID!) { graph(id: $id) { id } }', { id: bad });
    add('GraphInput unknown field', GRAPH, { input: { name: 'g', nodes: [node], nope: 1 } });
    add('NodeInput unknown field', GRAPH, { input: { name: 'g', nodes: [{ ...node, __proto__x: 1, constructor: 'x' }] } });
    add('__proto__ as an input field', GRAPH, JSON.parse('{"input":{"name":"g","nodes":[{"key":"a","blockId":"b"}],"__proto__":{"isAdmin":true}}}'));
    add('GraphInput name missing', GRAPH, { input: { nodes: [node] } });
    add('GraphInput name null', GRAPH, { input: { name: null, nodes: [node] } });
    add('GraphInput name a number', GRAPH, { input: { name: 5, nodes: [node] } });
    add('GraphInput name an object', GRAPH, { input: { name: { toString: 'x' }, nodes: [node] } });
    add('GraphInput nodes not a list', GRAPH, { input: { name: 'g', nodes: 'a' } });
    add('GraphInput nodes empty', GRAPH, { input: { name: 'g', nodes: [] } });
    add('GraphInput nodes null item', GRAPH, { input: { name: 'g', nodes: [null] } });
    add('nodeType unknown', GRAPH, { input: { name: 'g', nodes: [{ ...node, nodeType: 'EVIL' }] } });
    add('nodeType lower case', GRAPH, { input: { name: 'g', nodes: [{ ...node, nodeType: 'input' }] } });
    add('inputDefault an array', GRAPH, { input: { name: 'g', nodes: [{ ...node, inputDefault: [1] }] } });
    add('inputDefault a string', GRAPH, { input: { name: 'g', nodes: [{ ...node, inputDefault: 'x' }] } });
    add('isStatic a string', GRAPH, { input: { name: 'g', nodes: [node, { key: 'c', blockId: 'd' }], links: [{ source: 'a', sink: 'c', sourceName: 'o', sinkName: 'i', isStatic: 'yes' }] } });
    add('name of 201 characters', GRAPH, { input: { name: 'n'.repeat(201), nodes: [node] } });
    add('name of 900 KB', GRAPH, { input: { name: 'n'.repeat(900_000), nodes: [node] } });
    add('name only spaces', GRAPH, { input: { name: '   ', nodes: [node] } });
    add('501 nodes', GRAPH, { input: { name: 'g', nodes: Array.from({ length: 501 }, (_, i) => ({ key: `k${i}`, blockId: 'b' })) } });
    add('2,001 links', GRAPH, { input: { name: 'g', nodes: [node, { key: 'c', blockId: 'd' }], links: Array.from({ length: 2_001 }, (_, i) => ({ source: 'a', sink: 'c', sourceName: `o${i}`, sinkName: 'i' })) } });
    add('20,000 nodes', GRAPH, { input: { name: 'g', nodes: Array.from({ length: 20_000 }, (_, i) => ({ key: `${i}`, blockId: 'b' })) } });
    add('node metadata of 70 KB', GRAPH, { input: { name: 'g', nodes: [{ ...node, metadata: { big: 'm'.repeat(70_000) } }] } });
    add('executeGraph version 0', `mutation { executeGraph(graphId: "${w.A.graphId}", version: 0) { graphExecution { id } } }`, {});
    add('executeGraph version -1', `mutation { executeGraph(graphId: "${w.A.graphId}", version: -1) { graphExecution { id } } }`, {});
    add('executeGraph version 2^31', `mutation($v: Int) { executeGraph(graphId: "${w.A.graphId}", version: $v) { graphExecution { id } } }`, { v: INT32 });
    add('executeGraph version 99', `mutation { executeGraph(graphId: "${w.A.graphId}", version: 99) { graphExecution { id } } }`, {});
    add('executeGraph inputs an array', `mutation($v: JSONObject) { executeGraph(graphId: "${w.A.graphId}", inputs: $v) { graphExecution { id } } }`, { v: [1, 2] });
    add('executeGraph inputs nested 40 levels', `mutation($v: JSONObject) { executeGraph(graphId: "${w.A.graphId}", inputs: $v) { graphExecution { id } } }`, { v: nestedObject(40) });
    add('append content with NUL 70 levels deep', `mutation($v: JSON) { appendSessionEvents(sessionId: "${w.sessions.A}", events: [{ author: "a", content: $v }]) { session { id } } }`, { v: nestedObject(70, 'x\u0000') });
    add('createSession metadata with NUL 70 levels deep', 'mutation($v: JSONObject) { createSession(input: { appName: "a", metadata: $v }) { session { id } } }', { v: nestedObject(70, '\u0000') });
    add('setActiveGraphVersion version 0', `mutation { setActiveGraphVersion(id: "${w.A.graphId}", version: 0) { graph { id } } }`, {});
    add('setActiveGraphVersion version 2^31-1', `mutation { setActiveGraphVersion(id: "${w.A.graphId}", version: 2147483647) { graph { id } } }`, {});
    add('updateGraphExecution status unknown', `mutation($s: ExecutionStatus!) { updateGraphExecution(id: "${w.A.runId}", status: $s) { graphExecution { id } } }`, { s: 'DONE' });
    add('updateGraphExecution illegal transition QUEUED→INCOMPLETE', `mutation { updateGraphExecution(id: "${w.A.runId}", status: INCOMPLETE) { graphExecution { id } } }`, {});
    add('updateGraphExecution stats an array', `mutation($v: JSONObject) { updateGraphExecution(id: "${w.A.runId}", status: RUNNING, stats: $v) { graphExecution { id } } }`, { v: [] });
    add('updateGraphExecution errorMessage of 1 MB-', `mutation($s: String) { updateGraphExecution(id: "${w.A.runId}", status: RUNNING, errorMessage: $s) { graphExecution { id } } }`, { s: 'e'.repeat(900_000) });
    for (const cost of [-1, INT32, 1.5, '1', 1e20]) {
      add(`updateNodeExecution cost ${cost}`, `mutation($n: NonNegativeInt) { updateNodeExecution(id: "${w.A.nodeExecutionIds[0]}", status: QUEUED, cost: $n) { nodeExecution { id } } }`, { n: cost });
    }
    add('createApiKey no permissions', 'mutation { createApiKey(name: "k", permissions: []) { apiKey { id } } }', {});
    add('createApiKey unknown permission', 'mutation($p: [ApiKeyPermission!]!) { createApiKey(name: "k", permissions: $p) { apiKey { id } } }', { p: ['ROOT'] });
    add('createApiKey ADMIN by a non-admin', 'mutation { createApiKey(name: "k", permissions: [ADMIN]) { apiKey { id } } }', {});
    add('createApiKey name 101 chars', `mutation { createApiKey(name: "${'k'.repeat(101)}", permissions: [READ_GRAPHS]) { apiKey { id } } }`, {});
    add('createApiKey null permission', 'mutation($p: [ApiKeyPermission!]!) { createApiKey(name: "k", permissions: $p) { apiKey { id } } }', { p: [null] });
    add('revokeApiKey of a key id that is a graph id', `mutation { revokeApiKey(id: "${w.A.graphId}") { apiKey { id } } }`, {});
    for (const date of ['yesterday', '2026-13-45T00:00:00Z', '', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00.001Z', '-271821-04-20T00:00:00Z', 1e20, -1, '2026-01-01', '2026-01-01T25:00:00Z', { $gt: '' }]) {
      add(`sessions filter createdAfter ${JSON.stringify(date)}`, 'query($d: DateTime) { sessions(filter: { createdAfter: $d }) { totalCount } }', { d: date });
      add(`append timestamp ${JSON.stringify(date)}`, `mutation($d: DateTime) { appendSessionEvents(sessionId: "${w.sessions.A}", events: [{ author: "a", timestamp: $d }]) { session { id } } }`, { d: date });
    }
    add('executionStats range over 400 days', 'query { executionStats(filter: { from: "2020-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }) { total } }', {});
    add('executionStats to before from', 'query { executionStats(filter: { from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }) { total } }', {});
    add('graphExecutions 8+ statuses', 'query($s: [ExecutionStatus!]) { graphExecutions(filter: { statuses: $s }) { totalCount } }', { s: Array.from({ length: 10_000 }, () => 'QUEUED') });
    add('graphExecutions range reversed', 'query { graphExecutions(filter: { createdAt: { from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" } }) { totalCount } }', {});
    add('createSession empty appName', 'mutation { createSession(input: { appName: "" }) { session { id } } }', {});
    add('createSession appName 1025 chars', `mutation { createSession(input: { appName: "${'a'.repeat(1025)}" }) { session { id } } }`, {});
    add('createSession metadata an array', 'mutation($v: JSONObject) { createSession(input: { appName: "a", metadata: $v }) { session { id } } }', { v: [] });
    add('createSession metadata 70 KB', 'mutation($v: JSONObject) { createSession(input: { appName: "a", metadata: $v }) { session { id } } }', { v: { x: 'm'.repeat(70_000) } });
    add('createSession teamSessionId not a uuid', 'mutation { createSession(input: { appName: "a", teamSessionId: "x" }) { session { id } } }', {});
    add('createSession userId of another user', `mutation { createSession(input: { appName: "a", userId: "${w.users.B}" }) { session { id } } }`, {});
    add('updateSession expectedVersion 0', `mutation { updateSession(id: "${w.sessions.A}", input: { appName: "x" }, expectedVersion: 0) { session { id } } }`, {});
    add('updateSession expectedVersion stale', `mutation { updateSession(id: "${w.sessions.A}", input: { appName: "x" }, expectedVersion: 999) { session { id } } }`, {});
    add('updateSession metadata null', `mutation { updateSession(id: "${w.sessions.A}", input: { metadata: null }) { session { id } } }`, {});
    add('updateSession appName null', `mutation { updateSession(id: "${w.sessions.A}", input: { appName: null }) { session { id } } }`, {});
    add('reactivateSession of an ACTIVE session', `mutation { reactivateSession(id: "${w.sessions.A}") { session { id } } }`, {});
    add('append 0 events', `mutation { appendSessionEvents(sessionId: "${w.sessions.A}", events: []) { session { id } } }`, {});
    add('append 501 events', `mutation($e: [SessionEventInput!]!) { appendSessionEvents(sessionId: "${w.sessions.A}", events: $e) { session { id } } }`, { e: Array.from({ length: 501 }, () => ({ author: 'a' })) });
    add('append duplicate clientEventIds in a batch', `mutation { appendSessionEvents(sessionId: "${w.sessions.A}", events: [{ author: "a", clientEventId: "d" }, { author: "b", clientEventId: "d" }]) { session { id } } }`, {});
    add('append stateDelta not an object', `mutation { appendSessionEvents(sessionId: "${w.sessions.A}", events: [{ author: "a", actions: { stateDelta: [1] } }]) { session { id } } }`, {});
    add('append empty author', `mutation { appendSessionEvents(sessionId: "${w.sessions.A}", events: [{ author: " " }]) { session { id } } }`, {});
    add('append content 300 KB', `mutation($v: JSON) { appendSessionEvents(sessionId: "${w.sessions.A}", events: [{ author: "a", content: $v }]) { session { id } } }`, { v: 'c'.repeat(300_000) });
    add('append expectedVersion -1', `mutation { appendSessionEvents(sessionId: "${w.sessions.A}", events: [{ author: "a" }], expectedVersion: -1) { session { id } } }`, {});
    add('deleteSessions with no criterion', 'mutation { deleteSessions(filter: {}) { deletedCount } }', {});
    add('deleteSessions of another user', `mutation { deleteSessions(filter: { userId: "${w.users.B}" }) { deletedCount } }`, {});
    add('deleteSessions status list empty', 'mutation { deleteSessions(filter: { status: [] }) { deletedCount } }', {});
    for (const [label, query, variables] of cases) {
      await c.refusedUnchanged(server.db, label, () => c.op(query, variables));
    }
  });

  it("other users' ids and ids that name nothing: every mutation refuses, nothing changes, nothing leaks", async () => {
    const B = w.B;
    const mutations: Array<[string, string]> = [
      ['updateGraph', `mutation { updateGraph(id: "%GRAPH%", input: { name: "stolen", nodes: [{ key: "a", blockId: "b" }] }) { graph { id } } }`],
      ['setActiveGraphVersion', `mutation { setActiveGraphVersion(id: "%GRAPH%", version: 1) { graph { id } } }`],
      ['deleteGraph', `mutation { deleteGraph(id: "%GRAPH%") { deletedGraphId } }`],
      ['executeGraph', `mutation { executeGraph(graphId: "%GRAPH%") { graphExecution { id } } }`],
      ['updateGraphExecution', `mutation { updateGraphExecution(id: "%RUN%", status: RUNNING) { graphExecution { id } } }`],
      ['updateNodeExecution', `mutation { updateNodeExecution(id: "%NODEEXEC%", status: QUEUED) { nodeExecution { id } } }`],
      ['deleteGraphExecution', `mutation { deleteGraphExecution(id: "%RUN%") { deletedGraphExecutionId } }`],
      ['revokeApiKey', `mutation { revokeApiKey(id: "%KEY%") { apiKey { id } } }`],
      ['updateSession', `mutation { updateSession(id: "%SESSION%", input: { appName: "stolen" }) { session { id } } }`],
      ['completeSession', `mutation { completeSession(id: "%SESSION%") { session { id } } }`],
      ['failSession', `mutation { failSession(id: "%SESSION%") { session { id } } }`],
      ['reactivateSession', `mutation { reactivateSession(id: "%SESSION%") { session { id } } }`],
      ['deleteSession', `mutation { deleteSession(id: "%SESSION%") { deletedSessionId } }`],
      ['appendSessionEvents', `mutation { appendSessionEvents(sessionId: "%SESSION%", events: [{ author: "intruder" }]) { session { id } } }`],
      ['createSession in their team', `mutation { createSession(input: { appName: "x", teamSessionId: "%TEAM%" }) { session { id } } }`],
    ];
    const targets: Array<[string, Record<string, string>]> = [
      ["B's", { GRAPH: B.graphId, RUN: B.runId, NODEEXEC: B.nodeExecutionIds[0]!, KEY: B.apiKeyId, SESSION: w.sessions.B, TEAM: w.sessions.bTeam }],
      ['missing', { GRAPH: w.missing.graphId, RUN: w.missing.runId, NODEEXEC: w.missing.nodeExecutionIds[0]!, KEY: w.missing.apiKeyId, SESSION: w.missing.runId, TEAM: w.missing.graphId }],
      ...["' OR 1=1 --", '', 'x'.repeat(10_000), '00000000-0000-0000-0000-000000000000', `${B.graphId} `, B.graphId.toUpperCase().replace(/-/g, '')].map(
        (id) => [`id ${JSON.stringify(id.slice(0, 40))}`, { GRAPH: id, RUN: id, NODEEXEC: id, KEY: id, SESSION: id, TEAM: id }] as [string, Record<string, string>],
      ),
    ];
    for (const [whose, ids] of targets) {
      for (const [label, template] of mutations) {
        const query = template.replace(/%(\w+)%/g, (_, name: string) => ids[name]!.replace(/\\/g, '\\\\').replace(/"/g, '\\"'));
        const res = await c.refusedUnchanged(server.db, `${label} on ${whose} ids`, () => c.op(query), ['NOT_FOUND', 'FORBIDDEN', 'BAD_USER_INPUT']);
        expect(res.text).not.toContain('stolen');
      }
    }
    // Reads: another user's rows answer exactly like missing ones (null or NOT_FOUND), never their data.
    const reads: Array<[string, string]> = [
      ['graph', `{ graph(id: "${B.graphId}") { id name } }`],
      ['graph version', `{ graph(id: "${B.graphId}", version: 1) { id name } }`],
      ['graphExecution', `{ graphExecution(id: "${B.runId}") { id } }`],
      ['nodeExecution', `{ nodeExecution(id: "${B.nodeExecutionIds[0]}") { id } }`],
      ['session', `{ session(id: "${w.sessions.B}") { id } }`],
      ['graphs by owner', `{ graphs(filter: { ownerId: "${w.users.B}" }) { totalCount nodes { id } } }`],
      ['graphExecutions by user', `{ graphExecutions(filter: { userId: "${w.users.B}" }) { totalCount nodes { id } } }`],
      ['graphExecutions by graph', `{ graphExecutions(filter: { graphId: "${B.graphId}" }) { totalCount nodes { id } } }`],
      ['sessions by user', `{ sessions(filter: { userId: "${w.users.B}" }) { totalCount nodes { id } } }`],
      ['sessions by team', `{ sessions(filter: { teamSessionId: "${w.sessions.bTeam}" }) { totalCount nodes { id } } }`],
      ['executionStats of B', `{ executionStats(filter: { from: "2020-01-01T00:00:00Z", to: "2020-06-01T00:00:00Z", userId: "${w.users.B}" }) { total } }`],
      ['executionStats of B graph', `{ executionStats(filter: { from: "2020-01-01T00:00:00Z", to: "2020-06-01T00:00:00Z", graphId: "${B.graphId}" }) { total } }`],
    ];
    const secrets = [B.graphId, B.runId, w.sessions.B, w.sessions.bTeam, ...B.nodeExecutionIds];
    for (const [label, query] of reads) {
      const res = await c.op(query);
      c.expectAnswered(res, label);
      const dataText = JSON.stringify((res.json as { data?: unknown }).data ?? null);
      for (const secret of secrets) expect(dataText, `${label} leaked ${secret}`).not.toContain(secret);
      expect(dataText, label).not.toMatch(/"totalCount":[1-9]|"total":[1-9]/);
    }
    // Anonymous and revoked/forged keys. (A NUL in a header cannot even be sent: fetch refuses it client-side.)
    for (const key of [null, 'agk_forged', 'Bearer', `${w.keys.A}x`, w.keys.A!.slice(0, -1), 'x'.repeat(10_000), 'agk_' + '0'.repeat(60)]) {
      const res = await c.refusedUnchanged(server.db, `key ${JSON.stringify(String(key).slice(0, 20))}`, () => c.op('mutation { createApiKey(name: "anon", permissions: [READ_GRAPHS]) { apiKey { id } } }', undefined, key), ['UNAUTHENTICATED']);
      expect(errorsOf(res.json).length).toBeGreaterThan(0);
    }
    for (const header of ['Basic abc', 'Bearer', 'Bearer x', `bearer ${w.keys.A}`.replace('bearer', 'Token'), `Bearer ${w.keys.A} ${w.keys.B}`]) {
      const res = await c.raw(JSON.stringify({ query: 'mutation { createApiKey(name: "anon", permissions: [READ_GRAPHS]) { apiKey { id } } }' }), { key: null, headers: { authorization: header } });
      c.expectRefusal(res, `authorization ${header.slice(0, 20)}`, ['UNAUTHENTICATED']);
    }
    expect(await server.db.prisma.apiKey.count({ where: { name: 'anon' } })).toBe(0);
  });
});
