import type { GraphQLContext } from '../../context.js';
import type { ExecutionStatus, Prisma } from '../../generated/prisma/client.js';
import { badUserInput, conflict, notFound } from '../../errors.js';
import { visibleGraph } from '../graphs/graph-service.js';
import { checkJson, checkOptionalText } from '../shared/input.js';
import { visibleGraphExecution, visibleNodeExecution } from './execution-service.js';
import { createGraphExecution, softDeleteGraphExecution, transitionGraphExecution, transitionNodeExecution } from './execution-writes.js';
import type { GraphExecutionPayloadRef, NodeExecutionPayloadRef } from './payloads.js';
import { assertTransition, transitionTimestamps } from './status-transitions.js';

const MAX_JSON_BYTES = 1_000_000;
const MAX_ERROR_MESSAGE = 10_000;
/** Per node execution; with at most 500 nodes a run's summed cost stays within its int4 column. */
const MAX_NODE_COST = 1_000_000;

const json = (value: unknown, argument: string) =>
  (value === null || value === undefined ? undefined : checkJson(value, argument, { maxBytes: MAX_JSON_BYTES })) as Prisma.InputJsonValue | undefined;

const raced = (what: string) => conflict(`${what} was changed by another request meanwhile; read it again and retry.`);

export async function executeGraph(
  ctx: GraphQLContext,
  args: { graphId: string; version?: number | null; inputs?: Record<string, unknown> | null },
): Promise<GraphExecutionPayloadRef> {
  const graph = await visibleGraph(ctx, args.graphId, args.version, 'EXECUTE_GRAPHS');
  const graphExecutionId = await createGraphExecution(ctx.db.prisma, {
    graph,
    userId: ctx.viewer!.user.id,
    inputs: json(args.inputs ?? {}, 'inputs') ?? {},
  });
  return { graphExecutionId };
}

export async function updateGraphExecution(
  ctx: GraphQLContext,
  args: { id: string; status: ExecutionStatus; outputs?: unknown; stats?: Record<string, unknown> | null; errorMessage?: string | null },
): Promise<GraphExecutionPayloadRef> {
  const execution = await visibleGraphExecution(ctx, args.id, 'EXECUTE_GRAPHS');
  assertTransition('The graph execution', execution.status, args.status);
  const applied = await transitionGraphExecution(ctx.db.prisma, execution.id, execution.status, {
    status: args.status,
    outputs: json(args.outputs, 'outputs'),
    stats: json(args.stats, 'stats'),
    errorMessage: args.errorMessage === undefined ? undefined : checkOptionalText(args.errorMessage, 'errorMessage', MAX_ERROR_MESSAGE),
    ...transitionTimestamps(args.status, execution, new Date()),
  });
  if (!applied) throw raced('The graph execution');
  ctx.loaders.executions.graphExecutionById.clear(execution.id);
  return { graphExecutionId: execution.id };
}

export async function updateNodeExecution(
  ctx: GraphQLContext,
  args: {
    id: string;
    status: ExecutionStatus;
    inputs?: Record<string, unknown> | null;
    outputs?: unknown;
    stats?: Record<string, unknown> | null;
    cost?: number | null;
    errorMessage?: string | null;
  },
): Promise<NodeExecutionPayloadRef> {
  const nodeExecution = await visibleNodeExecution(ctx, args.id, 'EXECUTE_GRAPHS');
  if (args.cost !== null && args.cost !== undefined && args.cost > MAX_NODE_COST) {
    throw badUserInput(`\`cost\` may be at most ${MAX_NODE_COST} per node execution.`, 'cost');
  }
  assertTransition('The node execution', nodeExecution.status, args.status);
  const applied = await transitionNodeExecution(
    ctx.db.prisma,
    { id: nodeExecution.id, graphExecutionId: nodeExecution.graphExecutionId, previousCost: nodeExecution.cost },
    nodeExecution.status,
    {
      status: args.status,
      inputs: json(args.inputs, 'inputs'),
      outputs: json(args.outputs, 'outputs'),
      stats: json(args.stats, 'stats'),
      cost: args.cost ?? undefined,
      errorMessage: args.errorMessage === undefined ? undefined : checkOptionalText(args.errorMessage, 'errorMessage', MAX_ERROR_MESSAGE),
      ...transitionTimestamps(args.status, nodeExecution, new Date()),
    },
  );
  if (!applied) throw raced('The node execution');
  ctx.loaders.executions.nodeExecutionById.clear(nodeExecution.id);
  ctx.loaders.executions.graphExecutionById.clear(nodeExecution.graphExecutionId);
  return { nodeExecutionId: nodeExecution.id };
}

export async function deleteGraphExecution(ctx: GraphQLContext, id: string): Promise<{ deletedGraphExecutionId: string }> {
  const execution = await visibleGraphExecution(ctx, id, 'EXECUTE_GRAPHS');
  if (!(await softDeleteGraphExecution(ctx.db.prisma, execution.id))) throw notFound('Graph execution', id);
  ctx.loaders.executions.graphExecutionById.clear(execution.id);
  return { deletedGraphExecutionId: execution.id };
}
