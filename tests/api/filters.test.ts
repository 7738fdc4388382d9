/**
 * Filters say what they do: every criterion of every filter argument in the schema (walked, not listed) narrows the
 * list it is given to — or is refused (FORBIDDEN, for criteria that name another user) — wherever it is offered. A
 * criterion a field ignores fails here: each is tried with values that match less than the whole list, on the field's
 * own fixture rows. (Mutation.deleteSessions deletes what its filter names: tests/sessions/prune.test.ts.)
 */
import { getNamedType, isEnumType, isInputObjectType, isObjectType, type GraphQLField, type GraphQLObjectType } from 'graphql';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvers } from '../../src/modules/resolvers.js';
import { buildExecutableSchema } from '../../src/schema-files.js';
import { requiresAdmin } from '../helpers/authz.js';
import { addSessionEvents, createGraph, createRun, createSession, createUser } from '../helpers/factories.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const schema = buildExecutableSchema(resolvers);
const DAY = 86_400_000;
const FUTURE = '9999-01-01T00:00:00Z';
const PAST = '0001-01-02T00:00:00Z';

/** Values of a criterion's type that match less than everything (one of them at least, on the fixtures). */
function candidates(typeName: string): unknown[] {
  const type = schema.getType(typeName)!;
  if (isEnumType(type)) return type.getValues().map((v) => [v.value]);
  const byName: Record<string, unknown[]> = {
    ID: [randomUUID()],
    String: ['no-such-value'],
    Int: [9_999],
    Boolean: [true, false],
    DateTime: [FUTURE, PAST],
    JSONObject: [{ no: 'such' }],
    TimeRange: [{ from: FUTURE }, { to: PAST }],
  };
  if (!(typeName in byName)) throw new Error(`no candidate values for a criterion of type ${typeName}`);
  return byName[typeName]!;
}

type Host = { type: string; path: (inner: string) => string; variables: () => Record<string, unknown> };

describe('every filter criterion narrows its list, on every field that offers it (pglite)', () => {
  let server: TestServer;
  const ids: Record<string, string> = {};
  let adminKey: string;

  beforeAll(async () => {
    server = await startTestServer({ database: 'pglite' });
    const db = server.db;
    const other = await createUser(db);
    adminKey = (await createUser(db, { admin: true })).apiKey;
    const { graph } = await createGraph(db, server.userId, { name: 'filters active' });
    await createGraph(db, server.userId, { name: 'filters inactive', isActive: false });
    const { graph: othersGraph } = await createGraph(db, other.user.id, { name: 'someone else' });
    const done = await createRun(db, {
      graphId: graph.id,
      version: 1,
      userId: server.userId,
      status: 'COMPLETED',
      startedAt: new Date(),
      nodeExecutions: (_node, i) => ({ status: i === 0 ? 'FAILED' : 'COMPLETED' }),
    });
    await createRun(db, { graphId: graph.id, version: 1, userId: server.userId, status: 'FAILED', nodeExecutions: false });
    await createRun(db, { graphId: othersGraph.id, version: 1, userId: other.user.id, status: 'COMPLETED', nodeExecutions: false });
    const team = await createSession(db, { appName: 'app-a', agentId: 'agent-a', userId: server.userId, metadata: { k: 1 } });
    await createSession(db, { appName: 'app-b', userId: server.userId, teamSessionId: team.id, status: 'COMPLETED' });
    await createSession(db, { appName: 'app-a', userId: other.user.id });
    await addSessionEvents(db, team.id, [
      { author: 'user', invocationId: 'inv-1', agentId: 'agent-a', branch: 'main' },
      { author: 'agent', invocationId: 'inv-2' },
    ]);
    // A disabled block, so that `includeDisabled` has something to include.
    await db.prisma.block.update({ where: { name: 'ExecuteCodeBlock' }, data: { disabled: true } });
    Object.assign(ids, { graph: graph.id, run: done.runId, session: team.id });
  });
  afterAll(async () => {
    await server?.close();
  });

  // One `now` for both ends: two reads a millisecond apart made the range 400 days and 1 ms, which is refused.
  const statsRange = (now = Date.now()) => ({ from: new Date(now - 399 * DAY).toISOString(), to: new Date(now + DAY).toISOString() });
  /** Where each type's filtered fields are reached from, on the fixtures. */
  const HOSTS: Record<string, Host> = {
    Query: { type: 'Query', path: (inner) => inner, variables: () => ({}) },
    User: { type: 'User', path: (inner) => `viewer { ${inner} }`, variables: () => ({}) },
    Graph: { type: 'Graph', path: (inner) => `graph(id: "${ids.graph}") { ${inner} }`, variables: () => ({}) },
    GraphExecution: { type: 'GraphExecution', path: (inner) => `graphExecution(id: "${ids.run}") { ${inner} }`, variables: () => ({}) },
    Session: { type: 'Session', path: (inner) => `session(id: "${ids.session}") { ${inner} }`, variables: () => ({}) },
  };
  /** Filters with required criteria start from these (the statistics' 400-day range) and try these values. */
  const REQUIRED: Record<string, { base: () => Record<string, unknown>; tries: Record<string, () => unknown[]> }> = {
    ExecutionStatsFilter: {
      base: () => statsRange(),
      tries: { from: () => [new Date(Date.now() + DAY / 2).toISOString()], to: () => [new Date(Date.now() - 398 * DAY).toISOString()] },
    },
  };

  const filteredFields = Object.values(HOSTS).flatMap((host) => {
    const type = schema.getType(host.type);
    if (!isObjectType(type)) return [];
    return Object.values(type.getFields())
      .filter((field) => field.args.some((a) => a.name === 'filter'))
      .map((field) => ({ host, field }));
  });

  // Subscription filters narrow what is delivered, not a list: tests/live/subscriptions.test.ts walks them.
  it('the walk covers every filter argument of every read field', () => {
    const everywhere = Object.values(schema.getTypeMap()).flatMap((t) =>
      isObjectType(t) && !t.name.startsWith('__') && t !== schema.getMutationType() && t !== schema.getSubscriptionType()
        ? Object.values(t.getFields()).filter((f) => f.args.some((a) => a.name === 'filter')).map((f) => `${t.name}.${f.name}`)
        : [],
    );
    expect(filteredFields.map(({ host, field }) => `${host.type}.${field.name}`).sort()).toEqual(everywhere.sort());
  });

  /** What the list holds with this filter (its ids, or a statistic's total), or the error code. */
  async function listed(host: Host, field: GraphQLField<unknown, unknown>, filter: Record<string, unknown>): Promise<string> {
    const filterArg = field.args.find((a) => a.name === 'filter')!;
    const result = getNamedType(field.type) as GraphQLObjectType;
    const selection = 'nodes' in result.getFields() ? 'nodes { id }' : 'total';
    const query = `query($f: ${String(filterArg.type)}) { ${host.path(`${field.name}(first: 100, filter: $f) { ${selection} }`.replace('(first: 100, ', result.name.endsWith('Connection') ? '(first: 100, ' : '('))} }`;
    // Lists only an admin may read (every user) are walked with an admin's key.
    const res = await server.graphql<Record<string, unknown>>(query, { f: filter }, requiresAdmin(field) ? adminKey : server.apiKey);
    if (res.errors?.length) return String(res.errors[0]!.extensions?.code ?? 'error');
    let value: unknown = res.data;
    for (const step of host.path('§').split(/[{}§]/).map((s) => s.trim().split('(')[0]!).filter(Boolean)) value = (value as Record<string, unknown>)[step];
    const answer = (value as Record<string, Record<string, unknown>>)[field.name]!;
    return 'nodes' in answer ? JSON.stringify((answer.nodes as Array<{ id: string }>).map((n) => n.id).sort()) : String(answer.total);
  }

  it.each(filteredFields.map(({ host, field }) => [`${host.type}.${field.name}`, host, field] as const))('%s', async (_name, host, field) => {
    const filterType = getNamedType(field.args.find((a) => a.name === 'filter')!.type);
    if (!isInputObjectType(filterType)) throw new Error(`${field.name}: filter is not an input object`);
    const required = REQUIRED[filterType.name];
    const base = required?.base() ?? {};
    const everything = await listed(host, field, base);
    expect(everything, `${field.name}: the fixtures hold rows for this list`).not.toMatch(/^(\[\]|0|[A-Z_]+)$/);
    for (const criterion of Object.values(filterType.getFields())) {
      const values = required?.tries[criterion.name]?.() ?? candidates(getNamedType(criterion.type).name);
      const outcomes: string[] = [];
      for (const value of values) outcomes.push(await listed(host, field, { ...base, [criterion.name]: value }));
      // Honoured: some value changes what is listed, or the criterion is refused with a clear code (another user's
      // rows without ADMIN: FORBIDDEN; a criterion that needs another: BAD_USER_INPUT). Never silently the same list.
      expect(
        outcomes.some((outcome) => outcome !== everything),
        `${host.type}.${field.name}(filter: { ${criterion.name} }) changes the list (${everything}; got ${JSON.stringify(outcomes)})`,
      ).toBe(true);
      for (const outcome of outcomes) expect(['FORBIDDEN', 'BAD_USER_INPUT'].includes(outcome) || !/^[A-Z_]+$/.test(outcome), `${field.name} ${criterion.name}: ${outcome}`).toBe(true);
    }
  });
});
