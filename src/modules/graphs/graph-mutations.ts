import type { GraphQLContext } from '../../context.js';
import type { GraphInput, NodeInput } from '../../generated/graphql.js';
import { badUserInput, notFound } from '../../errors.js';
import { requireViewer } from '../auth/guards.js';
import { visibleGraph, visibleTemplate } from './graph-service.js';
import { validateGraphInput } from './graph-validation.js';
import { activateGraphVersion, deleteGraphVersions, insertGraph, insertGraphVersion, markTemplate } from './graph-writes.js';
import type { GraphPayloadRef } from './payloads.js';

/** Every cached version of a graph is stale once a mutation touched it. */
function forgetGraph(ctx: GraphQLContext, id: string): void {
  ctx.loaders.graphs.graphByKey.clearAll();
  ctx.loaders.graphs.currentGraphById.clear(id);
}

export async function createGraph(ctx: GraphQLContext, input: GraphInput): Promise<GraphPayloadRef> {
  const viewer = requireViewer(ctx.viewer);
  const graph = validateGraphInput(input);
  const created = await insertGraph(ctx.db.prisma, viewer.user.id, graph);
  return { graphId: created.id, version: created.version };
}

export async function updateGraph(ctx: GraphQLContext, id: string, input: GraphInput): Promise<GraphPayloadRef> {
  const current = await visibleGraph(ctx, id, null);
  const graph = validateGraphInput(input);
  // The new version keeps the graph's owner even when an admin writes it.
  const created = await insertGraphVersion(ctx.db.prisma, current.id, current.userId, graph);
  if (!created) throw notFound('Graph', id);
  forgetGraph(ctx, id);
  return { graphId: created.id, version: created.version };
}

export async function setActiveGraphVersion(ctx: GraphQLContext, id: string, version: number): Promise<GraphPayloadRef> {
  if (!Number.isInteger(version) || version < 1) throw badUserInput('`version` must be a positive integer.', 'version');
  const target = await visibleGraph(ctx, id, version);
  if (!(await activateGraphVersion(ctx.db.prisma, target.id, version))) throw notFound('Graph', `${id} version ${version}`);
  forgetGraph(ctx, id);
  return { graphId: target.id, version };
}

export async function setGraphTemplate(ctx: GraphQLContext, id: string, version: number, isTemplate: boolean): Promise<GraphPayloadRef> {
  if (!Number.isInteger(version) || version < 1) throw badUserInput('`version` must be a positive integer.', 'version');
  const target = await visibleGraph(ctx, id, version);
  if (!(await markTemplate(ctx.db.prisma, target.id, version, isTemplate))) throw notFound('Graph', `${id} version ${version}`);
  forgetGraph(ctx, id);
  return { graphId: target.id, version };
}

/** A new graph of the caller's with a template's definition, validated and checked like any `createGraph`. */
export async function createGraphFromTemplate(ctx: GraphQLContext, templateId: string, version: number, name?: string | null): Promise<GraphPayloadRef> {
  const viewer = requireViewer(ctx.viewer);
  const template = await visibleTemplate(ctx, templateId, version);
  const [nodes, links] = await Promise.all([ctx.loaders.graphs.nodesByGraph.load(template), ctx.loaders.graphs.linksByGraph.load(template)]);
  // Stored node ids serve as the definition's keys: unique, and what the links name.
  const input: GraphInput = {
    name: name ?? template.name,
    description: template.description,
    nodes: nodes.map((node): NodeInput => ({ key: node.id, blockId: node.blockId, label: node.label, nodeType: node.nodeType, inputDefault: node.inputDefault as NodeInput['inputDefault'], metadata: node.metadata as NodeInput['metadata'] })),
    links: links.map((link) => ({ source: link.sourceId, sink: link.sinkId, sourceName: link.sourceName, sinkName: link.sinkName, isStatic: link.isStatic })),
  };
  const created = await insertGraph(ctx.db.prisma, viewer.user.id, validateGraphInput(input));
  return { graphId: created.id, version: created.version };
}

export async function deleteGraph(ctx: GraphQLContext, id: string): Promise<{ deletedGraphId: string; deletedVersions: number }> {
  const graph = await visibleGraph(ctx, id, null);
  const deletedVersions = await deleteGraphVersions(ctx.db.prisma, graph.id);
  if (deletedVersions === 0) throw notFound('Graph', id);
  forgetGraph(ctx, id);
  return { deletedGraphId: graph.id, deletedVersions };
}
