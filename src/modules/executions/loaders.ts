import DataLoader from 'dataloader';
import type { Database } from '../../db/database.js';
import type { GraphExecution, Node, NodeExecution } from '../../generated/prisma/client.js';
import { graphKeyString, type GraphKey } from '../graphs/graph-store.js';
import { childCountLoader, childPageLoader } from '../shared/child-pages.js';
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
} from './execution-store.js';

const argsKey = (args: object) => JSON.stringify(args);

export function createExecutionLoaders(db: Database) {
  const sql = db.sql;
  const graphExecutionById = new DataLoader((ids: readonly string[]) => graphExecutionsByIds(sql, ids));
  /** Runs read whole (with their payloads) serve later by-id loads; rows read without payloads must not. */
  const rememberRuns = (rows: GraphExecution[], withPayload: boolean) => {
    if (withPayload) for (const row of rows) graphExecutionById.prime(row.id, row);
  };
  // A node execution is always followed by its run (access is checked on the run): both come from one statement.
  const nodeExecutionById = new DataLoader(async (ids: readonly string[]) => {
    const { nodeExecutions, runs } = await nodeExecutionsWithRunsByIds(sql, ids);
    rememberRuns(runs, true);
    return nodeExecutions;
  });
  /** A run read or written whole (all columns): it replaces whatever this request read of it before. */
  const rememberWholeRun = (row: GraphExecution) => {
    graphExecutionById.clear(row.id).prime(row.id, row);
  };
  const rememberWrittenNodeExecution = (row: NodeExecution) => nodeExecutionById.clear(row.id).prime(row.id, row);
  /** Nodes read along with node-execution pages that select `node` (NodeExecution.node answers from here). */
  const nodesRead = new Map<string, Node>();

  const executionsByGraph = childPageLoader<GraphKey, ExecutionPage, GraphExecution>({
    parentKey: graphKeyString,
    argsKey,
    fetch: async (graphs, page) => {
      const groups = await graphExecutionsByGraphs(sql, graphs, page);
      rememberRuns([...groups.values()].flat(), page.withPayload);
      return groups;
    },
  });
  const executionCountByGraph = childCountLoader<GraphKey, ExecutionScope>({
    parentKey: graphKeyString,
    argsKey,
    fetch: (graphs, scope) => countGraphExecutionsByGraphs(sql, graphs, scope),
  });
  const nodeExecutionsByRun = childPageLoader<string, NodeExecutionPage, NodeExecution>({
    parentKey: (id) => id,
    argsKey,
    fetch: async (ids, page) => {
      const { groups, nodes } = await nodeExecutionsByGraphExecutions(sql, ids, page);
      if (page.withPayload) for (const row of [...groups.values()].flat()) nodeExecutionById.prime(row.id, row);
      for (const node of nodes) nodesRead.set(node.id, node);
      return groups;
    },
  });
  const nodeExecutionCountByRun = childCountLoader<string, NodeExecutionPage['filter']>({
    parentKey: (id) => id,
    argsKey: (filter) => JSON.stringify(filter ?? null),
    fetch: (ids, filter) => countNodeExecutionsByGraphExecutions(sql, ids, filter),
  });

  const rememberNodePage = (runId: string, page: NodeExecutionPage, rows: NodeExecution[], nodes: Node[]) => {
    nodeExecutionsByRun.prime({ parent: runId, args: page }, rows);
    if (page.withPayload) for (const row of rows) nodeExecutionById.prime(row.id, row);
    for (const node of nodes) nodesRead.set(node.id, node);
  };
  /**
   * A run with pages of its node executions in one statement. The run is remembered at once; the pages only when
   * the caller, having checked access to the run, calls `rememberPages`.
   */
  const runWithNodePages = async (id: string, pages: NodeExecutionPage[]) => {
    const read = await runWithNodeExecutionPages(sql, id, pages);
    if (read.run) rememberWholeRun(read.run);
    return {
      run: read.run,
      rememberPages: () => pages.forEach((page, i) => rememberNodePage(id, page, read.pages[i]!.rows, read.pages[i]!.nodes)),
    };
  };

  return {
    graphExecutionById,
    runWithNodePages,
    rememberRuns,
    rememberWholeRun,
    nodeExecutionById,
    rememberWrittenNodeExecution,
    nodeRead: (id: string) => nodesRead.get(id),
    executionsByGraph,
    executionCountByGraph,
    nodeExecutionsByRun,
    nodeExecutionCountByRun,
  };
}

export type ExecutionLoaders = ReturnType<typeof createExecutionLoaders>;
