/**
 * The five questions, asked of each server in its own dialect, and the canonical shape every answer is
 * normalized to before the three are compared. Field sets and orders are identical across servers:
 *
 *  a. dashboard: the 20 newest active graphs (all users), each with its 10 latest non-deleted runs;
 *  b. one run with all its node executions (in the order added) and each node's block id;
 *  c. one user's runs with status COMPLETED|FAILED created in a 55-day range, newest first, 3 pages of 20 by cursor;
 *  d. the first 20 users by id × their 5 newest active graphs × each graph's 10 latest runs;
 *  e. writes: 1 run of a graph (QUEUED + one INCOMPLETE node execution per node) per 3 status changes of RUNNING
 *     runs (RUNNING ↔ REVIEW).
 *
 * agentgraph authenticates with the admin key for all-users questions (a, d) and the owner's key otherwise;
 * PostGraphile and the floor run without auth.
 */
import type { Fixtures } from './setup.js';

export type ServerKind = 'agentgraph' | 'postgraphile' | 'floor';
export const SERVER_KINDS: ServerKind[] = ['agentgraph', 'postgraphile', 'floor'];

export type Req = { path: string; body: string; headers: Record<string, string> };
export type Post = (req: Req) => Promise<unknown>;

export type QuestionId = 'a' | 'b' | 'c' | 'd' | 'e';
export type Question = {
  id: QuestionId;
  title: string;
  /** Runs the question once or a few times (sequentially) and returns canonical answers plus the load's requests. */
  prepare(kind: ServerKind, post: Post, fx: Fixtures, verify: Verifier): Promise<{ answers: unknown[]; next: () => Req }>;
};

/** Checks a write against the database (for e). */
export type Verifier = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

// ---------------------------------------------------------------------------------------------------------------
// Canonical shapes

type Run = { id: string; status: string; createdAt: string; startedAt: string | null; endedAt: string | null; cost: number };
type GraphWithRuns = { id: string; version: number; name: string; executions: Run[] };

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const run = (r: Record<string, unknown>, id: unknown): Run => ({
  id: id as string,
  status: r.status as string,
  createdAt: iso(r.createdAt)!,
  startedAt: iso(r.startedAt),
  endedAt: iso(r.endedAt),
  cost: r.cost as number,
});

// GraphQL documents -----------------------------------------------------------------------------------------------

const RUN_FIELDS = 'status createdAt startedAt endedAt cost';

const AG = {
  a: `query A { graphs(first: 20) { nodes { id version name executions(first: 10) { nodes { id ${RUN_FIELDS} } } } } }`,
  b: `query B($id: ID!) { graphExecution(id: $id) { id status createdAt cost
        nodeExecutions(first: 100) { nodes { id status startedAt endedAt cost node { blockId } } } } }`,
  c: `query C($first: Int!, $after: String, $filter: GraphExecutionFilter) {
        graphExecutions(first: $first, after: $after, filter: $filter) {
          nodes { id status createdAt graphVersion cost } pageInfo { hasNextPage endCursor } } }`,
  d: (users: string[]) =>
    `query D { ${users
      .map((u, i) => `u${i}: graphs(first: 5, filter: { ownerId: "${u}" }) { nodes { id version name owner { id email } executions(first: 10) { nodes { id ${RUN_FIELDS} } } } }`)
      .join('\n')} }`,
  execute: `mutation E1($graphId: ID!) { executeGraph(graphId: $graphId, inputs: { topic: "benchmark" }) { graphExecution { id status graphVersion } } }`,
  status: `mutation E2($id: ID!, $status: ExecutionStatus!) { updateGraphExecution(id: $id, status: $status) { graphExecution { id status } } }`,
};

const PG_RUNS = `graphExecutionsByGraphIdAndGraphVersion(first: 10, condition: { isDeleted: false }, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) { nodes { rowId ${RUN_FIELDS} } }`;
const PGL = {
  a: `query A { allGraphs(first: 20, condition: { isActive: true }, orderBy: [CREATED_AT_DESC, ROW_ID_DESC, VERSION_DESC]) {
        nodes { rowId version name ${PG_RUNS} } } }`,
  b: `query B($id: UUID!) { graphExecutionByRowId(rowId: $id) { rowId status createdAt cost
        nodeExecutionsByGraphExecutionId(orderBy: [ADDED_AT_ASC, ROW_ID_ASC]) { nodes { rowId status startedAt endedAt cost graphNodeByNodeId { blockId } } } } }`,
  c: `query C($first: Int!, $after: Cursor, $userId: UUID!, $statuses: [ExecutionStatus!], $from: Datetime!, $to: Datetime!) {
        allGraphExecutions(first: $first, after: $after, condition: { userId: $userId, isDeleted: false },
          filter: { status: { in: $statuses }, createdAt: { greaterThanOrEqualTo: $from, lessThan: $to } }, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) {
          nodes { rowId status createdAt graphVersion cost } pageInfo { hasNextPage endCursor } } }`,
  d: `query D { allUsers(first: 20, orderBy: [ROW_ID_ASC]) { nodes { rowId email
        graphsByUserId(first: 5, condition: { isActive: true }, orderBy: [CREATED_AT_DESC, ROW_ID_DESC, VERSION_DESC]) {
          nodes { rowId version name ${PG_RUNS} } } } } }`,
  execute: `mutation E1($graphId: UUID!, $userId: UUID!) { cmpExecuteGraph(input: { graphId: $graphId, userId: $userId, inputs: { topic: "benchmark" } }) {
        result { rowId status graphVersion } } }`,
  status: `mutation E2($id: UUID!, $status: ExecutionStatus!, $now: Datetime!) {
        updateGraphExecutionByRowId(input: { rowId: $id, graphExecutionPatch: { status: $status, updatedAt: $now } }) { graphExecution { rowId status } } }`,
};

// Requests --------------------------------------------------------------------------------------------------------

function request(kind: ServerKind, what: string, vars: Record<string, unknown>, apiKey?: string): Req {
  if (kind === 'floor') return { path: `/${what}`, body: JSON.stringify(vars), headers: { 'content-type': 'application/json' } };
  const docs = (kind === 'agentgraph' ? AG : PGL) as Record<string, string | ((u: string[]) => string)>;
  const doc = docs[what];
  const query = typeof doc === 'function' ? doc(vars.users as string[]) : doc;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (kind === 'agentgraph' && apiKey) headers.authorization = `Bearer ${apiKey}`;
  return { path: '/graphql', body: JSON.stringify({ query, variables: what === 'd' ? {} : vars }), headers };
}

/** GraphQL `data`, or the floor's body; any GraphQL error fails the run loudly. */
export async function ask(post: Post, req: Req): Promise<Record<string, unknown>> {
  const body = (await post(req)) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (req.path !== '/graphql') return body as Record<string, unknown>;
  if (body.errors || !body.data) throw new Error(`GraphQL errors for ${req.body.slice(0, 200)}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const cycle = (reqs: Req[]) => {
  let i = 0;
  return () => reqs[i++ % reqs.length]!;
};

type Obj = Record<string, unknown>;
const nodesOf = (conn: unknown) => (conn as { nodes: Obj[] }).nodes;

// Questions -------------------------------------------------------------------------------------------------------

const dashboard: Question = {
  id: 'a',
  title: 'dashboard: 20 graphs × 10 latest runs',
  async prepare(kind, post, fx) {
    const req = request(kind, 'a', {}, fx.adminKey);
    const data = await ask(post, req);
    let answer: GraphWithRuns[];
    if (kind === 'agentgraph') {
      answer = nodesOf(data.graphs).map((g) => ({ id: g.id as string, version: g.version as number, name: g.name as string, executions: nodesOf(g.executions).map((e) => run(e, e.id)) }));
    } else if (kind === 'postgraphile') {
      answer = nodesOf(data.allGraphs).map((g) => ({
        id: g.rowId as string,
        version: g.version as number,
        name: g.name as string,
        executions: nodesOf(g.graphExecutionsByGraphIdAndGraphVersion).map((e) => run(e, e.rowId)),
      }));
    } else {
      answer = (data.graphs as GraphWithRuns[]).map((g) => ({ ...g, executions: g.executions.map((e) => run(e as unknown as Obj, e.id)) }));
    }
    return { answers: [answer], next: cycle([req]) };
  },
};

const oneRun: Question = {
  id: 'b',
  title: 'one run + all node executions + block ids',
  async prepare(kind, post, fx) {
    const reqs = fx.runs.map((r) => request(kind, 'b', { id: r.id }, fx.keyOf[r.userId]));
    const answers: unknown[] = [];
    for (const req of reqs) {
      const data = await ask(post, req);
      const r = (kind === 'agentgraph' ? data.graphExecution : kind === 'postgraphile' ? data.graphExecutionByRowId : data.run) as Obj;
      const nodeExecutions: Obj[] =
        kind === 'agentgraph'
          ? nodesOf(r.nodeExecutions).map((n) => ({ ...n, blockId: (n.node as Obj).blockId }))
          : kind === 'postgraphile'
            ? nodesOf(r.nodeExecutionsByGraphExecutionId).map((n) => ({ ...n, id: n.rowId, blockId: (n.graphNodeByNodeId as Obj).blockId }))
            : (r.nodeExecutions as Obj[]);
      answers.push({
        id: kind === 'postgraphile' ? r.rowId : r.id,
        status: r.status,
        createdAt: iso(r.createdAt),
        cost: r.cost,
        nodeExecutions: nodeExecutions.map((n) => ({ id: n.id, status: n.status, startedAt: iso(n.startedAt), endedAt: iso(n.endedAt), cost: n.cost, blockId: n.blockId })),
      });
    }
    return { answers, next: cycle(reqs) };
  },
};

const paging: Question = {
  id: 'c',
  title: "a user's runs by status + time range, 3 pages by cursor",
  async prepare(kind, post, fx) {
    const { userId, statuses, from, to, pageSize } = fx.listing;
    const key = fx.keyOf[userId];
    const reqs: Req[] = [];
    const answers: unknown[] = [];
    let after: string | null = null;
    for (let page = 0; page < 3; page++) {
      const vars =
        kind === 'agentgraph'
          ? { first: pageSize, after, filter: { statuses, createdAt: { from, to } } }
          : { first: pageSize, after, userId, statuses, from, to };
      const req = request(kind, 'c', vars, key);
      reqs.push(req);
      const data = await ask(post, req);
      const conn = (kind === 'agentgraph' ? data.graphExecutions : kind === 'postgraphile' ? data.allGraphExecutions : data) as {
        nodes: Obj[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
      answers.push({
        hasNextPage: conn.pageInfo.hasNextPage,
        rows: conn.nodes.map((e) => ({
          id: kind === 'postgraphile' ? e.rowId : e.id,
          status: e.status,
          createdAt: iso(e.createdAt),
          graphVersion: e.graphVersion,
          cost: e.cost,
        })),
      });
      after = conn.pageInfo.endCursor;
      if (!after) throw new Error(`${kind}: question c has fewer than 3 pages`);
    }
    return { answers, next: cycle(reqs) };
  },
};

const nested: Question = {
  id: 'd',
  title: 'nested: 20 users × 5 graphs × 10 runs',
  async prepare(kind, post, fx) {
    const req = request(kind, 'd', { users: fx.users }, fx.adminKey);
    const data = await ask(post, req);
    let answer: unknown;
    if (kind === 'agentgraph') {
      answer = fx.users.map((userId, i) => {
        const graphs = nodesOf(data[`u${i}`]);
        return {
          id: userId,
          email: (graphs[0]?.owner as Obj | undefined)?.email ?? null,
          graphs: graphs.map((g) => ({ id: g.id, version: g.version, name: g.name, executions: nodesOf(g.executions).map((e) => run(e, e.id)) })),
        };
      });
    } else if (kind === 'postgraphile') {
      answer = nodesOf(data.allUsers).map((u) => ({
        id: u.rowId,
        email: u.email,
        graphs: nodesOf(u.graphsByUserId).map((g) => ({
          id: g.rowId,
          version: g.version,
          name: g.name,
          executions: nodesOf(g.graphExecutionsByGraphIdAndGraphVersion).map((e) => run(e, e.rowId)),
        })),
      }));
    } else {
      answer = (data.users as Array<Obj & { graphs: Array<Obj & { executions: Obj[] }> }>).map((u) => ({
        ...u,
        graphs: u.graphs.map((g) => ({ ...g, executions: g.executions.map((e) => run(e, e.id)) })),
      }));
    }
    return { answers: [answer], next: cycle([req]) };
  },
};

/** Where each toggled run is (RUNNING ↔ REVIEW), shared by the three servers since they write the same rows. */
const toggleState = new Map<string, 'RUNNING' | 'REVIEW'>();

function writeRequests(kind: ServerKind, fx: Fixtures) {
  let i = 0;
  let graphIndex = 0;
  let runIndex = 0;
  const executeReq = () => {
    const g = fx.writeGraphs[graphIndex++ % fx.writeGraphs.length]!;
    return kind === 'agentgraph' ? request(kind, 'execute', { graphId: g.id }, fx.keyOf[g.userId]) : request(kind, 'execute', { graphId: g.id, userId: g.userId });
  };
  const statusReq = () => {
    const r = fx.toggleRuns[runIndex++ % fx.toggleRuns.length]!;
    const from = toggleState.get(r.id) ?? 'RUNNING';
    const status = from === 'RUNNING' ? 'REVIEW' : 'RUNNING';
    toggleState.set(r.id, status);
    if (kind === 'agentgraph') return request(kind, 'status', { id: r.id, status }, fx.keyOf[r.userId]);
    if (kind === 'postgraphile') return request(kind, 'status', { id: r.id, status, now: new Date().toISOString() });
    return request(kind, 'status', { id: r.id, status, from });
  };
  return {
    executeReq,
    statusReq,
    next: () => (i++ % 4 === 0 ? executeReq() : statusReq()),
  };
}

const writes: Question = {
  id: 'e',
  title: 'writes: 1 executeGraph : 3 status updates',
  async prepare(kind, post, fx, verify) {
    const w = writeRequests(kind, fx);
    const data = await ask(post, w.executeReq());
    const created = (kind === 'agentgraph' ? (data.executeGraph as Obj).graphExecution : kind === 'postgraphile' ? (data.cmpExecuteGraph as Obj).result : data) as Obj;
    const id = (kind === 'postgraphile' ? created.rowId : created.id) as string;
    // The rows behind the answer: the run, and one INCOMPLETE node execution per node of its version.
    const [check] = await verify(
      `SELECT e.status::text AS status, e.graph_version AS "graphVersion", e.user_id AS "userId", e.graph_id AS "graphId",
              (SELECT count(*)::int FROM node_executions n WHERE n.graph_execution_id = e.id AND n.status = 'INCOMPLETE') AS "nodeExecutions",
              (SELECT count(*)::int FROM nodes d WHERE d.graph_id = e.graph_id AND d.graph_version = e.graph_version) AS nodes
       FROM graph_executions e WHERE e.id = $1`,
      [id],
    );
    if (!check) throw new Error(`${kind}: executeGraph answered run ${id}, which is not in the database`);
    const statusReq = w.statusReq();
    const wanted = (JSON.parse(statusReq.body) as { variables?: Obj } & Obj);
    const expected = (wanted.variables ?? wanted).status;
    const statusData = await ask(post, statusReq);
    const updated = (kind === 'agentgraph' ? (statusData.updateGraphExecution as Obj).graphExecution : kind === 'postgraphile' ? (statusData.updateGraphExecutionByRowId as Obj).graphExecution : statusData) as Obj;
    const updatedId = (kind === 'postgraphile' ? updated.rowId : updated.id) as string;
    const [stored] = await verify('SELECT status::text AS status FROM graph_executions WHERE id = $1', [updatedId]);
    // Ids differ by design; the servers run the same graph first, and toggle runs whose state the harness tracks.
    return {
      answers: [
        {
          status: created.status,
          graphVersion: created.graphVersion,
          storedStatus: check.status,
          storedGraph: `${String(check.graphId)}:${String(check.graphVersion)}`,
          nodeExecutionsMatchNodes: check.nodeExecutions === check.nodes && (check.nodes as number) > 0,
        },
        { answeredAsRequested: updated.status === expected, storedAsRequested: stored?.status === expected },
      ],
      next: w.next,
    };
  },
};

export const QUESTIONS: Question[] = [dashboard, oneRun, paging, nested, writes];

