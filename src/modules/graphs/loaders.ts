import DataLoader from 'dataloader';
import type { Database } from '../../db/database.js';
import type { Graph } from '../../generated/prisma/client.js';
import {
  countGraphsByOwners,
  currentGraphVersions,
  graphKeyString,
  graphPagesByOwners,
  graphsByKeys,
  linksByGraphKeys,
  nodesByGraphKeys,
  nodesByIds,
  countVersionsByGraphIds,
  versionsByGraphIds,
  type GraphKey,
  type GraphListFilter,
  type GraphPageArgs,
} from './graph-store.js';
import { childCountLoader, childPageLoader } from '../shared/child-pages.js';

type VersionPage = { beforeVersion: number | null; limit: number };

/** Per-request loaders of the graphs domain; results are primed across loaders so a graph is read once. */
export function createGraphLoaders(db: Database) {
  const sql = db.sql;
  const graphByKey = new DataLoader<GraphKey, Graph | null, string>((keys) => graphsByKeys(sql, keys), {
    cacheKeyFn: graphKeyString,
  });
  const currentGraphById = new DataLoader<string, Graph | null>(async (ids) => {
    const graphs = await currentGraphVersions(sql, ids);
    for (const graph of graphs) if (graph) graphByKey.prime(graph, graph);
    return graphs;
  });
  const nodeById = new DataLoader((ids: readonly string[]) => nodesByIds(sql, ids));
  const nodesByGraph = new DataLoader(
    async (keys: readonly GraphKey[]) => {
      const groups = await nodesByGraphKeys(sql, keys);
      for (const node of groups.flat()) nodeById.prime(node.id, node);
      return groups;
    },
    { cacheKeyFn: graphKeyString },
  );
  const linksByGraph = new DataLoader((keys: readonly GraphKey[]) => linksByGraphKeys(sql, keys), {
    cacheKeyFn: graphKeyString,
  });
  const versionsByGraph = childPageLoader<string, VersionPage, Graph>({
    parentKey: (id) => id,
    argsKey: (page) => `${page.beforeVersion}:${page.limit}`,
    fetch: async (ids, page) => {
      const groups = await versionsByGraphIds(sql, ids, page);
      for (const graph of [...groups.values()].flat()) graphByKey.prime(graph, graph);
      return groups;
    },
  });
  const versionCountByGraph = childCountLoader<string, null>({
    parentKey: (id) => id,
    argsKey: () => '',
    fetch: (ids) => countVersionsByGraphIds(sql, ids),
  });
  // Graph lists of one owner each (Query.graphs with an owner, User.graphs): the lists of a request that differ
  // only in their owner are one statement, whether they come from aliases or from a list of users. Answers are
  // not remembered, so a list read again after a mutation of the same operation is read afresh.
  const graphPageByOwner = childPageLoader<string, GraphPageArgs, Graph>({
    parentKey: (ownerId) => ownerId,
    argsKey: (page) => JSON.stringify({ ...page, children: page.children?.key ?? null }),
    cache: false,
    fetch: (ownerIds, page) => graphPagesByOwners(sql, ownerIds, page),
  });
  const graphCountByOwner = childCountLoader<string, GraphListFilter>({
    parentKey: (ownerId) => ownerId,
    argsKey: (filter) => JSON.stringify(filter),
    cache: false,
    fetch: (ownerIds, filter) => countGraphsByOwners(sql, ownerIds, filter),
  });
  return { graphByKey, currentGraphById, nodeById, nodesByGraph, linksByGraph, versionsByGraph, versionCountByGraph, graphPageByOwner, graphCountByOwner };
}

export type GraphLoaders = ReturnType<typeof createGraphLoaders>;

/** Remembers graphs read by a list query so nested fields (node.graph, …) do not read them again. */
export function primeGraphs(loaders: GraphLoaders, graphs: Graph[]): void {
  for (const graph of graphs) loaders.graphByKey.prime(graph, graph);
}

/**
 * A node through its graph version's node list: every node of a response's graphs then comes from one batched
 * read, whatever field (link ends, node executions) asks for it and in whichever order they resolve.
 */
export async function nodeOfGraph(loaders: GraphLoaders, graph: GraphKey, nodeId: string) {
  const nodes = await loaders.nodesByGraph.load(graph);
  return nodes.find((node) => node.id === nodeId) ?? (await loaders.nodeById.load(nodeId));
}
