import { randomUUID } from 'node:crypto';
import type { Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { refuseBrokenDefinition } from '../blocks/graph-checks.js';
import type { ValidGraph } from './graph-validation.js';

type Tx = Prisma.TransactionClient;

/** Checks the definition against the block catalogue (refused: the transaction writes nothing), then writes it with its verdict. */
async function writeVersion(tx: Tx, graphId: string, version: number, ownerId: string, graph: ValidGraph): Promise<void> {
  const runnableRevision = await refuseBrokenDefinition(
    tx,
    graph.nodes.map((node) => ({ ref: node.key, blockId: node.blockId, nodeType: node.nodeType, inputDefault: node.inputDefault })),
    graph.links,
  );
  await tx.graph.create({
    data: { id: graphId, version, name: graph.name, description: graph.description, isActive: true, userId: ownerId, blocksChecked: true, runnableRevision },
  });
  const nodeIds = new Map(graph.nodes.map((node) => [node.key, randomUUID()]));
  await tx.node.createMany({
    data: graph.nodes.map((node) => ({
      id: nodeIds.get(node.key)!,
      graphId,
      graphVersion: version,
      blockId: node.blockId,
      label: node.label,
      nodeType: node.nodeType,
      inputDefault: node.inputDefault,
      metadata: node.metadata,
    })),
  });
  if (graph.links.length) {
    await tx.link.createMany({
      data: graph.links.map((link) => ({
        graphId,
        graphVersion: version,
        sourceId: nodeIds.get(link.source)!,
        sinkId: nodeIds.get(link.sink)!,
        sourceName: link.sourceName,
        sinkName: link.sinkName,
        isStatic: link.isStatic,
      })),
    });
  }
}

/** Version 1 of a new graph, with its nodes and links, in one transaction. */
export async function insertGraph(prisma: PrismaClient, ownerId: string, graph: ValidGraph): Promise<{ id: string; version: number }> {
  const id = randomUUID();
  await prisma.$transaction((tx) => writeVersion(tx, id, 1, ownerId, graph));
  return { id, version: 1 };
}

/**
 * Serializes writers of one graph for the rest of the transaction. A row lock would not do: a writer waiting on
 * the old rows would not see the version the previous writer inserted, and both would pick the same number.
 */
async function lockGraph(tx: Tx, graphId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${graphId}, 0))`;
}

/** The next version (latest + 1), made the only active one; concurrent updates of one graph take turns. */
export async function insertGraphVersion(prisma: PrismaClient, graphId: string, ownerId: string, graph: ValidGraph): Promise<{ id: string; version: number } | null> {
  return prisma.$transaction(async (tx) => {
    await lockGraph(tx, graphId);
    const latest = await tx.graph.aggregate({ where: { id: graphId }, _max: { version: true } });
    if (latest._max.version === null) return null;
    const version = latest._max.version + 1;
    await tx.graph.updateMany({ where: { id: graphId, isActive: true }, data: { isActive: false } });
    await writeVersion(tx, graphId, version, ownerId, graph);
    return { id: graphId, version };
  });
}

export async function activateGraphVersion(prisma: PrismaClient, graphId: string, version: number): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    await lockGraph(tx, graphId);
    const target = await tx.graph.findUnique({ where: { id_version: { id: graphId, version } }, select: { version: true } });
    if (!target) return false;
    await tx.graph.updateMany({ where: { id: graphId, isActive: true, NOT: { version } }, data: { isActive: false } });
    await tx.graph.update({ where: { id_version: { id: graphId, version } }, data: { isActive: true } });
    return true;
  });
}

/** Publishes or withdraws one version as a template; false when there is no such version. */
export async function markTemplate(prisma: PrismaClient, graphId: string, version: number, isTemplate: boolean): Promise<boolean> {
  const { count } = await prisma.graph.updateMany({ where: { id: graphId, version }, data: { isTemplate } });
  return count === 1;
}

/** Every version; nodes, links and executions go with them (foreign keys cascade). */
export async function deleteGraphVersions(prisma: PrismaClient, graphId: string): Promise<number> {
  const { count } = await prisma.graph.deleteMany({ where: { id: graphId } });
  return count;
}
