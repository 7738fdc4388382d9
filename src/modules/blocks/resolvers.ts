import type { Resolvers } from '../../generated/graphql.js';
import { blockById, blockPage, graphProblems } from './block-service.js';
import { inputPortsOf, outputPortsOf } from './block-ports.js';
import { connectionResolvers } from '../shared/connection.js';

export const blockResolvers: Resolvers = {
  Query: {
    blocks: (_root, args, ctx) => blockPage(ctx, args),
    block: (_root, { id }, ctx) => blockById(ctx, id),
  },
  BlockConnection: connectionResolvers,
  Block: {
    inputPorts: (block) => inputPortsOf(block),
    outputPorts: (block) => outputPortsOf(block),
  },
  Graph: {
    problems: (graph, _args, ctx) => graphProblems(ctx, graph),
  },
  Node: {
    block: (node, _args, ctx) => ctx.loaders.blocks.byId.load(node.blockId),
  },
  BlockStats: {
    block: (stats, _args, ctx) => ctx.loaders.blocks.byId.load(stats.blockId),
  },
};
