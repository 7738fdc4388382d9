import type { GraphExecution, NodeExecution } from '../../generated/prisma/client.js';
import { modelTable } from '../../db/columns.js';

/** The GraphExecution model's columns (alias `e`); see db/columns.ts. */
export const GRAPH_EXECUTION_TABLE = modelTable<GraphExecution>('graph_executions', 'e', {
  id: { column: 'id' },
  graphId: { column: 'graph_id' },
  graphVersion: { column: 'graph_version' },
  userId: { column: 'user_id' },
  status: { column: 'status', kind: 'text' },
  inputs: { column: 'inputs', kind: 'json' },
  outputs: { column: 'outputs', kind: 'json' },
  stats: { column: 'stats', kind: 'json' },
  cost: { column: 'cost' },
  errorMessage: { column: 'error_message' },
  isDeleted: { column: 'is_deleted' },
  parentId: { column: 'parent_id' },
  createdAt: { column: 'created_at', kind: 'time' },
  updatedAt: { column: 'updated_at', kind: 'time' },
  startedAt: { column: 'started_at', kind: 'time' },
  endedAt: { column: 'ended_at', kind: 'time' },
  inRollups: { column: 'in_rollups', copied: true },
});

/** The NodeExecution model's columns (alias `n`), with the copies of its run's and node's fields a trigger keeps. */
export const NODE_EXECUTION_TABLE = modelTable<NodeExecution>('node_executions', 'n', {
  id: { column: 'id' },
  graphExecutionId: { column: 'graph_execution_id' },
  nodeId: { column: 'node_id' },
  status: { column: 'status', kind: 'text' },
  inputs: { column: 'inputs', kind: 'json' },
  outputs: { column: 'outputs', kind: 'json' },
  stats: { column: 'stats', kind: 'json' },
  cost: { column: 'cost' },
  errorMessage: { column: 'error_message' },
  addedAt: { column: 'added_at', kind: 'time' },
  queuedAt: { column: 'queued_at', kind: 'time' },
  startedAt: { column: 'started_at', kind: 'time' },
  endedAt: { column: 'ended_at', kind: 'time' },
  userId: { column: 'user_id', copied: true },
  runCreatedAt: { column: 'run_created_at', kind: 'time', copied: true },
  runIsDeleted: { column: 'run_is_deleted', copied: true },
  blockId: { column: 'block_id', copied: true },
  inRollups: { column: 'in_rollups', copied: true },
});
