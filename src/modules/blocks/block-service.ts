/** Reads of the block catalogue: checks, then the store. Any API key may read it. */
import type { Block, Graph } from '../../generated/prisma/client.js';
import type { GraphQLContext } from '../../context.js';
import type { QueryBlocksArgs } from '../../generated/graphql.js';
import { notFound } from '../../errors.js';
import { requireViewer } from '../auth/guards.js';
import { connectionFromPage, type Connection } from '../shared/connection.js';
import { isUuid } from '../shared/ids.js';
import { checkOptionalText } from '../shared/input.js';
import { decodeCursor, encodeCursor, pageSize } from '../shared/pagination.js';
import { countBlocks, listBlocks, type BlockListFilter } from './block-store.js';
import { blocksOfDefinition, storedDefinitionProblems, storedRuleLink, storedRuleNode } from './graph-checks.js';

const ORDER = 'blocks:name';

export async function blockPage(ctx: GraphQLContext, args: QueryBlocksArgs): Promise<Connection<Block>> {
  requireViewer(ctx.viewer);
  const size = pageSize(args.first);
  const afterName = args.after ? decodeCursor(args.after, ORDER, ['string'] as const)[0] : null;
  const filter: BlockListFilter = {
    nameContains: checkOptionalText(args.filter?.nameContains, 'filter.nameContains', 100),
    category: checkOptionalText(args.filter?.category, 'filter.category', 50),
    includeDisabled: args.filter?.includeDisabled ?? false,
  };
  const rows = size === 0 ? [] : await listBlocks(ctx.db.sql, { limit: size + 1, afterName, filter });
  rows.forEach((block) => ctx.loaders.blocks.byId.prime(block.id, block));
  return connectionFromPage(rows, size, afterName !== null, (block) => encodeCursor(ORDER, [block.name]), () => countBlocks(ctx.db.sql, filter));
}

export async function blockById(ctx: GraphQLContext, id: string): Promise<Block> {
  requireViewer(ctx.viewer);
  const block = isUuid(id) ? await ctx.loaders.blocks.byId.load(id) : null;
  if (!block) throw notFound('Block', id);
  return block;
}

/** A stored graph version's problems under the catalogue's rules (nodes named by id, links by id). */
export async function graphProblems(ctx: GraphQLContext, graph: Graph) {
  const [nodes, links] = await Promise.all([ctx.loaders.graphs.nodesByGraph.load(graph), ctx.loaders.graphs.linksByGraph.load(graph)]);
  const definition = { nodes: nodes.map(storedRuleNode), links: links.map(storedRuleLink) };
  return storedDefinitionProblems(definition, await blocksOfDefinition(ctx, definition));
}
