import type { ExecutionStatus, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import type { GraphKey } from '../graphs/graph-store.js';

type JsonInput = Prisma.InputJsonValue;

/** A QUEUED run of one graph version with an INCOMPLETE node execution per node, in one transaction. */
export async function createGraphExecution(
  prisma: PrismaClient,
  input: { graph: GraphKey; userId: string; inputs: JsonInput },
): Promise<string> {
  return prisma.$transaction(async (tx) => {
    const execution = await tx.graphExecution.create({
      data: { graphId: input.graph.id, graphVersion: input.graph.version, userId: input.userId, status: 'QUEUED', inputs: input.inputs },
      select: { id: true, createdAt: true },
    });
    // With the run's and node's copies supplied, the fill trigger does not fire.
    await tx.$executeRaw`
      INSERT INTO node_executions (id, graph_execution_id, node_id, status, inputs, added_at, user_id, run_created_at, block_id)
      SELECT gen_random_uuid(), ${execution.id}::uuid, n.id, 'INCOMPLETE', '{}'::jsonb, now(), ${input.userId}::uuid, ${execution.createdAt}, n.block_id
      FROM nodes n WHERE n.graph_id = ${input.graph.id}::uuid AND n.graph_version = ${input.graph.version}
      ORDER BY n.id`;
    return execution.id;
  });
}

export type GraphExecutionChange = {
  status: ExecutionStatus;
  outputs?: JsonInput;
  stats?: JsonInput;
  errorMessage?: string | null;
  startedAt?: Date;
  endedAt?: Date;
};

/**
 * Applies a status change only if the row is still in the status the caller checked (compare-and-set), so two
 * executors racing on one run cannot both win. Returns whether it applied.
 */
export async function transitionGraphExecution(prisma: PrismaClient, id: string, from: ExecutionStatus, change: GraphExecutionChange): Promise<boolean> {
  const { count } = await prisma.graphExecution.updateMany({ where: { id, status: from, isDeleted: false }, data: change });
  return count === 1;
}

export type NodeExecutionChange = GraphExecutionChange & { inputs?: JsonInput; queuedAt?: Date; cost?: number };

/** Compare-and-set like runs; a node's cost is added to its run's cost in the same transaction. */
export async function transitionNodeExecution(
  prisma: PrismaClient,
  target: { id: string; graphExecutionId: string; previousCost: number },
  from: ExecutionStatus,
  change: NodeExecutionChange,
): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const { count } = await tx.nodeExecution.updateMany({ where: { id: target.id, status: from }, data: change });
    if (count !== 1) return false;
    const delta = change.cost === undefined ? 0 : change.cost - target.previousCost;
    if (delta !== 0) await tx.graphExecution.update({ where: { id: target.graphExecutionId }, data: { cost: { increment: delta } } });
    return true;
  });
}

export async function softDeleteGraphExecution(prisma: PrismaClient, id: string): Promise<boolean> {
  const { count } = await prisma.graphExecution.updateMany({ where: { id, isDeleted: false }, data: { isDeleted: true } });
  return count === 1;
}
