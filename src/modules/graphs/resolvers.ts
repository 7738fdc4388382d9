import type { Resolvers } from '../../generated/graphql.js';
import { connectionResolvers } from '../shared/connection.js';
import { graphConnection, visibleGraph } from './graph-service.js';

// Nested fields are reachable only through a graph the viewer was allowed to see, so they load without
// further checks; every entry point (Query fields) goes through the service's policy.
export const graphResolvers: Resolvers = {
  Query: {
    graphs: (_root, args, ctx) => graphConnection(ctx, args),
    graph: (_root, { id, version }, ctx) => visibleGraph(ctx, id, version),
  },
  GraphConnection: connectionResolvers,
  Graph: {
    owner: (graph, _args, ctx) => ctx.loaders.users.userById.load(graph.userId).then((user) => user!),
    nodes: (graph, _args, ctx) => ctx.loaders.graphs.nodesByGraph.load(graph),
    links: (graph, _args, ctx) => ctx.loaders.graphs.linksByGraph.load(graph),
  },
  Node: {
    graph: (node, _args, ctx) =>
      ctx.loaders.graphs.graphByKey.load({ id: node.graphId, version: node.graphVersion }).then((graph) => graph!),
  },
  Link: {
    source: (link, _args, ctx) => ctx.loaders.graphs.nodeById.load(link.sourceId).then((node) => node!),
    sink: (link, _args, ctx) => ctx.loaders.graphs.nodeById.load(link.sinkId).then((node) => node!),
  },
};
