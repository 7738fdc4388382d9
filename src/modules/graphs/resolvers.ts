import type { Resolvers } from '../../generated/graphql.js';
import { connectionResolvers } from '../shared/connection.js';
import { lookAheadUnder } from '../shared/look-ahead.js';
import { listSelection } from '../shared/selection.js';
import { ownGraph } from '../auth/guards.js';
import { createGraph, createGraphFromTemplate, deleteGraph, setActiveGraphVersion, setGraphTemplate, updateGraph } from './graph-mutations.js';
import { graphConnection, graphVersions, visibleGraph } from './graph-service.js';
import { nodeOfGraph } from './loaders.js';

// Permissions are declared on the schema (@auth); whose graphs a key sees is the service's policy at every entry point,
// and nested fields are reachable only through a graph the viewer was allowed to see, so they load without checks —
// except what is the owner's alone (owner, versions, executions, stats), since another user's template is visible too.
export const graphResolvers: Resolvers = {
  Query: {
    graphs: (_root, args, ctx, info) => graphConnection(ctx, args, listSelection(info), undefined, lookAheadUnder(ctx, info, 'Graph')),
    graph: (_root, { id, version }, ctx) => visibleGraph(ctx, id, version, { orTemplate: true }),
  },
  // Permissions, and what the answer may show, are declared on the schema and checked before the write (field-auth.ts).
  Mutation: {
    createGraph: (_root, { input }, ctx) => createGraph(ctx, input),
    updateGraph: (_root, { id, input }, ctx) => updateGraph(ctx, id, input),
    setActiveGraphVersion: (_root, { id, version }, ctx) => setActiveGraphVersion(ctx, id, version),
    setGraphTemplate: (_root, { id, version, isTemplate }, ctx) => setGraphTemplate(ctx, id, version, isTemplate),
    createGraphFromTemplate: (_root, { templateId, version, name }, ctx) => createGraphFromTemplate(ctx, templateId, version, name),
    deleteGraph: (_root, { id }, ctx) => deleteGraph(ctx, id),
  },
  // The mutation checked access, and its answer's selection, before writing: load, do not re-check.
  GraphPayload: {
    graph: (ref, _args, ctx) => ctx.loaders.graphs.graphByKey.load({ id: ref.graphId, version: ref.version }).then((graph) => graph!),
  },
  GraphConnection: connectionResolvers,
  User: {
    graphs: (user, args, ctx, info) => graphConnection(ctx, args, listSelection(info), user.id, lookAheadUnder(ctx, info, 'Graph')),
  },
  Graph: {
    owner: (graph, _args, ctx) => ctx.loaders.users.userById.load(ownGraph(ctx.viewer, graph, 'owner').userId).then((user) => user!),
    nodes: (graph, _args, ctx) => ctx.loaders.graphs.nodesByGraph.load(graph),
    links: (graph, _args, ctx) => ctx.loaders.graphs.linksByGraph.load(graph),
    versions: (graph, args, ctx) => graphVersions(ctx, ownGraph(ctx.viewer, graph, 'other versions'), args),
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
