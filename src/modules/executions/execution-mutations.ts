import type { GraphQLContext } from '../../context.js';
import type { ExecutionStatus, GraphExecution, Prisma } from '../../generated/prisma/client.js';
import { badUserInput, conflict, notFound } from '../../errors.js';
import { requireViewer } from '../auth/guards.js';
import { refuseUnrunnable, storedRuleLink, storedRuleNode } from '../blocks/graph-checks.js';
import { visibleGraph } from '../graphs/graph-service.js';
import { runInputsMatter } from '../blocks/graph-rules.js';
import { stampRunnable, versionToRun } from '../blocks/run-check-store.js';
import { isUuid } from '../shared/ids.js';
import { checkJson, checkOptionalText } from '../shared/input.js';
import { visibleGraphExecution, visibleNodeExecution } from './execution-service.js';
import { changeGraphExecutionStatus, createGraphExecution, softDeleteGraphExecution, transitionNodeExecution } from './execution-writes.js';
import type { GraphExecutionPayloadRef, NodeExecutionPayloadRef } from './payloads.js';
import { assertTransition, statusesLeadingTo, transitionTimestamps } from './status-transitions.js';

const MAX_JSON_BYTES = 1_000_000;
const MAX_ERROR_MESSAGE = 10_000;
/** Per node execution; with at most 500 nodes a run's summed cost stays within its int4 column. */
const MAX_NODE_COST = 1_000_000;

const json = (value: unknown, argument: string) =>
  (value === null || value === undefined ? undefined : checkJson(value, argument, { maxBytes: MAX_JSON_BYTES })) as Prisma.InputJsonValue | undefined;

const raced = (what: string) => conflict(`${what} was changed by another request meanwhile; read it again and retry.`);

/**
 * Writes the run in one statement when the version needs no check (stored before the catalogue, or found runnable
 * whatever its inputs at the catalogue's current revision). Otherwise reads the version (NOT_FOUND if the viewer may
 * not see it, as for a missing graph), refuses it if it could not run with these inputs, and writes the run of
 * exactly that version. The payload reads the run from the loader.
 */
export async function executeGraph(
  ctx: GraphQLContext,
  args: { graphId: string; version?: number | null; inputs?: Record<string, unknown> | null },
): Promise<GraphExecutionPayloadRef> {
  const viewer = requireViewer(ctx.viewer);
  const version = args.version ?? null;
  const missing = () => notFound('Graph', version ? `${args.graphId} version ${version}` : args.graphId);
  if (!isUuid(args.graphId)) throw missing();
  let inputs: Prisma.InputJsonValue;
  try {
    inputs = json(args.inputs ?? {}, 'inputs') ?? {};
  } catch (err) {
    // A graph the viewer cannot see answers NOT_FOUND before its inputs are judged.
    await visibleGraph(ctx, args.graphId, version);
    throw err;
  }
  const run = { graphId: args.graphId, ownerId: viewer.isAdmin ? null : viewer.user.id, userId: viewer.user.id, inputs };
  const written =
    (await createGraphExecution(ctx.db.sql, { ...run, version, onlyIfRunnable: true })) ?? (await writeCheckedRun(ctx, { ...run, version }));
  if (!written) throw missing();
  ctx.loaders.executions.runs.primeWholeRun(written);
  return { graphExecutionId: written.id };
}

/** A run of a version checked first (BAD_USER_INPUT listing its problems); null when the viewer has no such version. */
async function writeCheckedRun(
  ctx: GraphQLContext,
  run: { graphId: string; version: number | null; ownerId: string | null; userId: string; inputs: Prisma.InputJsonValue },
): Promise<GraphExecution | null> {
  const target = await versionToRun(ctx.db.sql, run);
  if (!target) return null;
  let runsWithAnyInputs = false;
  if (target.blocksChecked) {
    const blocks = new Map(target.blocks!.map((block) => [block.id, block]));
    blocks.forEach((block) => ctx.loaders.blocks.byId.prime(block.id, block));
    const definition = { nodes: target.nodes!.map(storedRuleNode), links: target.links!.map(storedRuleLink) };
    refuseUnrunnable(definition, blocks, run.inputs as Record<string, unknown>);
    runsWithAnyInputs = !runInputsMatter(definition.nodes, blocks);
  }
  const written = await createGraphExecution(ctx.db.sql, { ...run, version: target.version, onlyIfRunnable: false });
  // Its next runs take one statement, until the catalogue changes.
  if (written && runsWithAnyInputs) await stampRunnable(ctx.db.sql, target, target.catalogueRevision);
  return written;
}

/**
 * One statement when it applies: the compare-and-set UPDATE checks visibility and the transition in SQL. Only
 * when nothing applied is the run read, to answer why (NOT_FOUND, CONFLICT with the reason, or a race).
 */
export async function updateGraphExecution(
  ctx: GraphQLContext,
  args: { id: string; status: ExecutionStatus; outputs?: unknown; stats?: Record<string, unknown> | null; errorMessage?: string | null },
): Promise<GraphExecutionPayloadRef> {
  const viewer = requireViewer(ctx.viewer);
  const whyNot = async () => {
    const execution = await visibleGraphExecution(ctx, args.id);
    assertTransition('The graph execution', execution.status, args.status);
  };
  let change;
  try {
    change = {
      outputs: json(args.outputs, 'outputs'),
      stats: json(args.stats, 'stats'),
      errorMessage: args.errorMessage === undefined ? undefined : checkOptionalText(args.errorMessage, 'errorMessage', MAX_ERROR_MESSAGE),
    };
  } catch (err) {
    // A run the viewer cannot see answers NOT_FOUND, and an illegal transition CONFLICT, before arguments are judged.
    await whyNot();
    throw err;
  }
  const from = statusesLeadingTo(args.status);
  const updated =
    isUuid(args.id) && from.length > 0
      ? await changeGraphExecutionStatus(ctx.db.sql, { id: args.id, ownerId: viewer.isAdmin ? null : viewer.user.id }, args.status, from, change, new Date())
      : null;
  if (!updated) {
    await whyNot();
    throw raced('The graph execution');
  }
  ctx.loaders.executions.runs.primeWholeRun(updated);
  return { graphExecutionId: updated.id };
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
  const nodeExecution = await visibleNodeExecution(ctx, args.id);
  if (args.cost !== null && args.cost !== undefined && args.cost > MAX_NODE_COST) {
    throw badUserInput(`\`cost\` may be at most ${MAX_NODE_COST} per node execution.`, 'cost');
  }
  assertTransition('The node execution', nodeExecution.status, args.status);
  const now = new Date();
  const updated = await transitionNodeExecution(
    ctx.db.sql,
    { id: nodeExecution.id, previousCost: nodeExecution.cost },
    nodeExecution.status,
    {
      status: args.status,
      inputs: json(args.inputs, 'inputs'),
      outputs: json(args.outputs, 'outputs'),
      stats: json(args.stats, 'stats'),
      cost: args.cost ?? undefined,
      errorMessage: args.errorMessage === undefined ? undefined : checkOptionalText(args.errorMessage, 'errorMessage', MAX_ERROR_MESSAGE),
      ...transitionTimestamps(args.status, nodeExecution, now),
    },
    now,
  );
  if (!updated) throw raced('The node execution');
  ctx.loaders.executions.nodeExecutions.primeWrittenNodeExecution(updated.nodeExecution);
  // Without a cost change the run was not written: the payload's run is the one read for the access check.
  if (updated.run) ctx.loaders.executions.runs.primeWholeRun(updated.run);
  return { nodeExecutionId: nodeExecution.id };
}

export async function deleteGraphExecution(ctx: GraphQLContext, id: string): Promise<{ deletedGraphExecutionId: string }> {
  const execution = await visibleGraphExecution(ctx, id);
  if (!(await softDeleteGraphExecution(ctx.db.prisma, execution.id))) throw notFound('Graph execution', id);
  ctx.loaders.executions.runs.graphExecutionById.clear(execution.id);
  return { deletedGraphExecutionId: execution.id };
}
