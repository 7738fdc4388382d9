/**
 * The catalogue's rules where graphs are written and run: `createGraph` / `updateGraph` check a definition inside
 * the write's transaction, and `executeGraph` checks a stored version and the run's inputs before a run is queued.
 * Each refusal lists every problem (BAD_USER_INPUT, `extensions.problems`).
 */
import { Prisma, type Block, type Link, type Node } from '../../generated/prisma/client.js';
import type { GraphQLContext } from '../../context.js';
import { brokenGraph } from '../../errors.js';
import { isUuid } from '../shared/ids.js';
import { BLOCK_TABLE } from './columns.js';
import { MAX_GRAPH_PROBLEMS, runInputsMatter, runProblems, structureProblems, type RuleLink, type RuleNode } from './graph-rules.js';

/**
 * The blocks a definition names, read FOR SHARE in the write's transaction: a concurrent `blocks:sync` that would
 * disable or change one of them waits until the graph is written, so the graph is checked against what is stored.
 */
async function blocksForWrite(tx: Prisma.TransactionClient, blockIds: readonly string[]): Promise<Map<string, Block>> {
  const ids = [...new Set(blockIds.filter(isUuid).map((id) => id.toLowerCase()))];
  if (ids.length === 0) return new Map();
  const rows = await tx.$queryRaw<Block[]>(Prisma.sql`
    SELECT ${BLOCK_TABLE.select()} FROM blocks b WHERE b.id = ANY(${ids}::uuid[]) ORDER BY b.id FOR SHARE`);
  return new Map(rows.map((block) => [block.id, block]));
}

/**
 * Refuses a definition (nodes named by their keys, links by their index in the input) that breaks the catalogue's
 * rules. Returns the catalogue revision at which it can run whatever its inputs (`graphs.runnable_revision`), or
 * null when it cannot yet, or when its run inputs need checking.
 */
export async function refuseBrokenDefinition(tx: Prisma.TransactionClient, nodes: readonly RuleNode[], links: readonly RuleLink[]): Promise<number | null> {
  const blocks = await blocksForWrite(tx, nodes.map((node) => node.blockId));
  const problems = structureProblems(nodes, links, blocks);
  if (problems.length > 0) throw brokenGraph('The graph', problems, 'input');
  if (runProblems(nodes, links, blocks).length > 0 || runInputsMatter(nodes, blocks)) return null;
  // Read after the blocks: a sync that changes them waits for this transaction, and then bumps the revision.
  const current = await tx.blockCatalogueRevision.findUnique({ where: { id: 1 } });
  return current?.revision ?? null;
}

/** A stored version as the rules see it: nodes and links by id. */
export type StoredDefinition = { nodes: ReadonlyArray<RuleNode>; links: ReadonlyArray<RuleLink & { id: string }> };

/** A stored node and link as the rules see them. */
export const storedRuleNode = (node: Pick<Node, 'id' | 'blockId' | 'nodeType' | 'inputDefault'>): RuleNode => ({
  ref: node.id,
  blockId: node.blockId,
  nodeType: node.nodeType,
  inputDefault: node.inputDefault,
});
export const storedRuleLink = (link: Pick<Link, 'id' | 'sourceId' | 'sinkId' | 'sourceName' | 'sinkName' | 'isStatic'>) => ({
  id: link.id,
  source: link.sourceId,
  sink: link.sinkId,
  sourceName: link.sourceName,
  sinkName: link.sinkName,
  isStatic: link.isStatic,
});

/** The blocks of a stored definition, through the loader (one statement for any number of nodes). */
export async function blocksOfDefinition(ctx: GraphQLContext, definition: StoredDefinition): Promise<Map<string, Block>> {
  const found = await ctx.loaders.blocks.byId.loadMany([...new Set(definition.nodes.map((node) => node.blockId))]);
  const blocks = new Map<string, Block>();
  for (const block of found) if (block && !(block instanceof Error)) blocks.set(block.id, block);
  return blocks;
}

/**
 * Every problem of a stored version (at most MAX_GRAPH_PROBLEMS), nodes and links named by id as `Graph.problems`
 * has them; with the run's `inputs`, also what keeps it from running with them.
 */
export function storedDefinitionProblems(definition: StoredDefinition, blocks: ReadonlyMap<string, Block>, inputs?: Record<string, unknown>) {
  const problems = [...structureProblems(definition.nodes, definition.links, blocks), ...runProblems(definition.nodes, definition.links, blocks, inputs)];
  return problems.slice(0, MAX_GRAPH_PROBLEMS).map(({ rule, message, node, link, port }) => ({
    rule,
    message,
    nodeId: node,
    linkId: link === null ? null : definition.links[link]!.id,
    port,
  }));
}

/**
 * Refuses to run a version that breaks the catalogue's rules, or could not run with these inputs (an entry node,
 * every node reachable, every required input fed, each run input valid for its input node).
 */
export function refuseUnrunnable(definition: StoredDefinition, blocks: ReadonlyMap<string, Block>, inputs: Record<string, unknown>): void {
  const problems = storedDefinitionProblems(definition, blocks, inputs);
  if (problems.length > 0) throw brokenGraph('The graph version', problems, 'graphId');
}
