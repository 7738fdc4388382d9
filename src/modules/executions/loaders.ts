import DataLoader from 'dataloader';
import type { Database } from '../../db/database.js';
import type { SqlRunner } from '../../db/sql.js';
import type { GraphExecution, NodeExecution } from '../../generated/prisma/client.js';
import { graphKeyString, type GraphKey } from '../graphs/graph-store.js';
import { childCountLoader, childPageLoader } from '../shared/child-pages.js';
import { memoizeByObject } from '../shared/memo.js';
import type { ExecutionScope } from './execution-sql.js';
import {
  countGraphExecutionsByGraphs,
  countNodeExecutionsByGraphExecutions,
  graphExecutionsByGraphs,
  graphExecutionsByIds,
  nodeExecutionsByGraphExecutions,
  nodeExecutionsWithRunsByIds,
  runWithNodeExecutionPages,
  type ExecutionPage,
  type NodeExecutionPage,
  type NodeForm,
  type NodeRead,
} from './execution-store.js';

/** A value made on first use. */
const lazy = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  return () => (value ??= make());
};

/** A page's arguments as a loader key; serialized once per page object (a look-ahead hands one to every parent). */
type ArgsKey = (args: object) => string;

/** Runs (graph executions): by id, pages under graphs, pages read along with a graph list, counts. */
function createRunLoaders(sql: SqlRunner, argsKey: ArgsKey) {
  const graphExecutionById = new DataLoader((ids: readonly string[]) => graphExecutionsByIds(sql, ids));
  /** Runs read whole (with their payloads) serve later by-id loads; rows read without payloads must not. */
  const primeRuns = (rows: GraphExecution[], wholeRow: boolean) => {
    if (wholeRow) for (const row of rows) graphExecutionById.prime(row.id, row);
  };
  const executionsByGraph = childPageLoader<GraphKey, ExecutionPage, GraphExecution>({
    parentKey: graphKeyString,
    argsKey,
    fetch: async (graphs, page) => {
      const groups = await graphExecutionsByGraphs(sql, graphs, page);
      primeRuns([...groups.values()].flat(), page.wholeRow);
      return groups;
    },
  });
  /**
   * Run pages read along with their graphs' list (look-ahead), by page and graph: a graph's `executions` field takes
   * its page from here synchronously, without a loader's promise per graph. Keyed by the page's key, then the graph's:
   * the page key string (long, the same string object each time) is hashed once, not within a longer key per graph.
   */
  const runPagesReadAlong = new Map<string, Map<string, GraphExecution[]>>();
  const readAlongOf = (page: ExecutionPage) => {
    const key = argsKey(page);
    let byGraph = runPagesReadAlong.get(key);
    if (!byGraph) runPagesReadAlong.set(key, (byGraph = new Map()));
    return byGraph;
  };
  // Counts are asked for rarely (`totalCount`): their loader is made on first use.
  const executionCountByGraph = lazy(() =>
    childCountLoader<GraphKey, ExecutionScope>({
      parentKey: graphKeyString,
      argsKey,
      fetch: (graphs, scope) => countGraphExecutionsByGraphs(sql, graphs, scope),
    }),
  );
  return {
    graphExecutionById,
    primeRuns,
    /** A run read or written whole (all columns): it replaces whatever this request read of it before. */
    primeWholeRun: (row: GraphExecution) => void graphExecutionById.clear(row.id).prime(row.id, row),
    executionsByGraph,
    primeRunsReadAlong: (page: ExecutionPage, graph: GraphKey, rows: GraphExecution[]) => {
      readAlongOf(page).set(graphKeyString(graph), rows);
      primeRuns(rows, page.wholeRow);
    },
    runsReadAlong: (page: ExecutionPage, graph: GraphKey): GraphExecution[] | undefined => runPagesReadAlong.get(argsKey(page))?.get(graphKeyString(graph)),
    get executionCountByGraph() {
      return executionCountByGraph();
    },
  };
}

/** Node executions: by id (each with its run, primed into `runs`), pages under runs, counts, and the nodes read along. */
function createNodeExecutionLoaders(sql: SqlRunner, argsKey: ArgsKey, runs: ReturnType<typeof createRunLoaders>) {
  // A node execution is always followed by its run (access is checked on the run): both come from one statement.
  const nodeExecutionById = new DataLoader(async (ids: readonly string[]) => {
    const { nodeExecutions, runs: runRows } = await nodeExecutionsWithRunsByIds(sql, ids);
    runs.primeRuns(runRows, true);
    return nodeExecutions;
  });
  /**
   * Nodes read along with node-execution pages that select `node` (NodeExecution.node answers from here), by form
   * (NodeForm): a node read in a lesser form may answer only a selection that form covers.
   */
  const nodesRead: Record<NodeForm, Map<string, NodeRead>> = { key: new Map(), light: new Map(), full: new Map() };
  const primeNodes = (page: NodeExecutionPage, nodes: NodeRead[]) => {
    if (page.node === 'none') return;
    const read = nodesRead[page.node];
    for (const node of nodes) read.set(node.id, node);
  };
  const primeNodeExecutions = (page: NodeExecutionPage, rows: NodeExecution[]) => {
    if (page.wholeRow) for (const row of rows) nodeExecutionById.prime(row.id, row);
  };
  const nodeExecutionsByRun = childPageLoader<string, NodeExecutionPage, NodeExecution>({
    parentKey: (id) => id,
    argsKey,
    fetch: async (ids, page) => {
      const { groups, nodes } = await nodeExecutionsByGraphExecutions(sql, ids, page);
      primeNodeExecutions(page, [...groups.values()].flat());
      primeNodes(page, nodes);
      return groups;
    },
  });
  const nodeExecutionCountByRun = lazy(() =>
    childCountLoader<string, NodeExecutionPage['filter']>({
      parentKey: (id) => id,
      argsKey: (filter) => JSON.stringify(filter ?? null),
      fetch: (ids, filter) => countNodeExecutionsByGraphExecutions(sql, ids, filter),
    }),
  );
  return {
    nodeExecutionById,
    primeWrittenNodeExecution: (row: NodeExecution) => void nodeExecutionById.clear(row.id).prime(row.id, row),
    /** A page of a run's node executions read elsewhere (with the run): later loads of that page answer from it. */
    primeNodePage: (runId: string, page: NodeExecutionPage, rows: NodeExecution[], nodes: NodeRead[]) => {
      nodeExecutionsByRun.prime({ parent: runId, args: page }, rows);
      primeNodeExecutions(page, rows);
      primeNodes(page, nodes);
    },
    /** A node read along with a page in the form `needed` or a larger one. */
    nodeRead: (id: string, needed: NodeForm): NodeRead | undefined =>
      nodesRead.full.get(id) ?? (needed !== 'full' ? (nodesRead.light.get(id) ?? (needed === 'key' ? nodesRead.key.get(id) : undefined)) : undefined),
    nodeExecutionsByRun,
    get nodeExecutionCountByRun() {
      return nodeExecutionCountByRun();
    },
  };
}

/**
 * A list field's page, computed once per operation for every parent it is resolved under: a field's arguments and
 * selection are the same for each parent (they come from the document and the operation's variables), so 20 graphs'
 * `executions` share one page object, and with it one loader key. Keyed by the field's nodes and the variables
 * object: the operations of a batch share this request's loaders, and may share a document.
 */
function fieldPageMemo() {
  const pagesOfFields = new WeakMap<object, WeakMap<object, unknown>>();
  return <Page>(info: { fieldNodes: object; variableValues: object }, compute: () => Page): Page => {
    let byVariables = pagesOfFields.get(info.fieldNodes);
    if (!byVariables) pagesOfFields.set(info.fieldNodes, (byVariables = new WeakMap()));
    if (byVariables.has(info.variableValues)) return byVariables.get(info.variableValues) as Page;
    const page = compute();
    byVariables.set(info.variableValues, page);
    return page;
  };
}

/** Per-request loaders of the executions domain: `runs` and `nodeExecutions`, and what reads both at once. */
export function createExecutionLoaders(db: Database) {
  const argsKey = memoizeByObject((args: object) => JSON.stringify(args));
  const runs = createRunLoaders(db.sql, argsKey);
  const nodeExecutions = createNodeExecutionLoaders(db.sql, argsKey, runs);
  return {
    runs,
    nodeExecutions,
    pageOfField: fieldPageMemo(),
    /**
     * A run with pages of its node executions in one statement. The run is primed at once (when read whole); the
     * pages only when the caller, having checked access to the run, calls `primePages`.
     */
    async runWithNodePages(id: string, pages: NodeExecutionPage[], runRead: { wholeRow: boolean; optional: readonly string[] }) {
      const read = await runWithNodeExecutionPages(db.sql, id, pages, runRead);
      if (read.run && runRead.wholeRow) runs.primeWholeRun(read.run);
      return {
        run: read.run,
        primePages: () => pages.forEach((page, i) => nodeExecutions.primeNodePage(id, page, read.pages[i]!.rows, read.pages[i]!.nodes)),
      };
    },
  };
}

export type ExecutionLoaders = ReturnType<typeof createExecutionLoaders>;
