import type { Resolvers } from '../../generated/graphql.js';
import { answerReadableFirst } from '../auth/readable-answers.js';
import { executionsOfGraph, graphRunsLookAhead } from '../executions/execution-service.js';
import { connectionResolvers } from '../shared/connection.js';
import { childFields, listSelection } from '../shared/selection.js';
import { createGraph, deleteGraph, setActiveGraphVersion, updateGraph } from './graph-mutations.js';
import { graphConnection, graphVersions, visibleGraph } from './graph-service.js';
import { nodeOfGraph } from './loaders.js';

// Nested fields are reachable only through a graph the viewer was allowed to see, so they load without
// further checks; every entry point (Query and Mutation fields) goes through the service's policy.
export const graphResolvers: Resolvers = {
  Query: {
    graphs: (_root, args, ctx, info) => graphConnection(ctx, args, listSelection(info), undefined, graphRunsLookAhead(ctx, childFields(info, 'Graph', 'executions'))),
    graph: (_root, { id, version }, ctx) => visibleGraph(ctx, id, version),
  },
  // What the selection asks back is checked before the write (a WRITE-only key reads no related graph data).
  Mutation: {
    createGraph: answerReadableFirst('WRITE_GRAPHS', ({ input }, ctx) => createGraph(ctx, input)),
    updateGraph: answerReadableFirst('WRITE_GRAPHS', ({ id, input }, ctx) => updateGraph(ctx, id, input)),
    setActiveGraphVersion: answerReadableFirst('WRITE_GRAPHS', ({ id, version }, ctx) => setActiveGraphVersion(ctx, id, version)),
    deleteGraph: answerReadableFirst('WRITE_GRAPHS', ({ id }, ctx) => deleteGraph(ctx, id)),
  },
  // The mutation checked access with its own permission, and the selection before writing: load, do not re-check.
  GraphPayload: {
    graph: (ref, _args, ctx) => ctx.loaders.graphs.graphByKey.load({ id: ref.graphId, version: ref.version }).then((graph) => graph!),
  },
  GraphConnection: connectionResolvers,
  Graph: {
    owner: (graph, _args, ctx) => ctx.loaders.users.userById.load(graph.userId).then((user) => user!),
    nodes: (graph, _args, ctx) => ctx.loaders.graphs.nodesByGraph.load(graph),
    links: (graph, _args, ctx) => ctx.loaders.graphs.linksByGraph.load(graph),
    versions: (graph, args, ctx) => graphVersions(ctx, graph, args),
    executions: (graph, args, ctx, info) => executionsOfGraph(ctx, graph, args, info),
  },
  Node: {
    graph: (node, _args, ctx) => ctx.loaders.graphs.graphByKey.load({ id: node.graphId, version: node.graphVersion }).then((graph) => graph!),
    inputLinks: async (node, _args, ctx) =>
      (await ctx.loaders.graphs.linksByGraph.load({ id: node.graphId, version: node.graphVersion })).filter((link) => link.sinkId === node.id),
    outputLinks: async (node, _args, ctx) =>
      (await ctx.loaders.graphs.linksByGraph.load({ id: node.graphId, version: node.graphVersion })).filter((link) => link.sourceId === node.id),
  },
  Link: {
    source: (link, _args, ctx) => nodeOfGraph(ctx.loaders.graphs, { id: link.graphId, version: link.graphVersion }, link.sourceId).then((node) => node!),
    sink: (link, _args, ctx) => nodeOfGraph(ctx.loaders.graphs, { id: link.graphId, version: link.graphVersion }, link.sinkId).then((node) => node!),
  },
};
