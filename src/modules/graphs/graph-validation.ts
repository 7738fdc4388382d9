import type { GraphInput } from '../../generated/graphql.js';
import type { NodeType, Prisma } from '../../generated/prisma/client.js';
import { badUserInput } from '../../errors.js';
import { checkJson, checkOptionalText, checkText } from '../shared/input.js';

export const GRAPH_LIMITS = { nodes: 500, links: 2_000, name: 200, description: 5_000, key: 100, blockId: 200, pinName: 200, label: 200, jsonBytes: 64_000 };

/** A graph definition that passed validation, ready to be written as one version. */
export type ValidGraph = {
  name: string;
  description: string | null;
  nodes: Array<{ key: string; blockId: string; label: string | null; nodeType: NodeType; inputDefault: Prisma.InputJsonValue; metadata: Prisma.InputJsonValue }>;
  links: Array<{ source: string; sink: string; sourceName: string; sinkName: string; isStatic: boolean }>;
};

/**
 * Checks everything the database cannot: at least one node, unique node keys, links between this graph's nodes,
 * no duplicate links, and no cycle through non-static links (a static link feeds a value once and cannot loop).
 */
export function validateGraphInput(input: GraphInput): ValidGraph {
  const name = checkText(input.name, 'input.name', { max: GRAPH_LIMITS.name });
  const description = checkOptionalText(input.description, 'input.description', GRAPH_LIMITS.description);
  if (input.nodes.length === 0) throw badUserInput('A graph needs at least one node.', 'input.nodes');
  if (input.nodes.length > GRAPH_LIMITS.nodes) throw badUserInput(`A graph may have at most ${GRAPH_LIMITS.nodes} nodes.`, 'input.nodes');
  const linksInput = input.links ?? [];
  if (linksInput.length > GRAPH_LIMITS.links) throw badUserInput(`A graph may have at most ${GRAPH_LIMITS.links} links.`, 'input.links');

  const keys = new Set<string>();
  const nodes = input.nodes.map((node, i) => {
    const key = checkText(node.key, `input.nodes[${i}].key`, { max: GRAPH_LIMITS.key });
    if (keys.has(key)) throw badUserInput(`Node key "${key}" is used twice.`, `input.nodes[${i}].key`);
    keys.add(key);
    return {
      key,
      blockId: checkText(node.blockId, `input.nodes[${i}].blockId`, { max: GRAPH_LIMITS.blockId }),
      label: checkOptionalText(node.label, `input.nodes[${i}].label`, GRAPH_LIMITS.label),
      nodeType: node.nodeType ?? 'STANDARD',
      inputDefault: checkJson(node.inputDefault ?? {}, `input.nodes[${i}].inputDefault`, { maxBytes: GRAPH_LIMITS.jsonBytes }) as Prisma.InputJsonValue,
      metadata: checkJson(node.metadata ?? {}, `input.nodes[${i}].metadata`, { maxBytes: GRAPH_LIMITS.jsonBytes }) as Prisma.InputJsonValue,
    };
  });

  const seen = new Set<string>();
  const links = linksInput.map((link, i) => {
    const at = `input.links[${i}]`;
    for (const end of ['source', 'sink'] as const) {
      if (!keys.has(link[end])) throw badUserInput(`Link ${i} points at ${end} "${link[end]}", which is not a node of this graph.`, `${at}.${end}`);
    }
    const sourceName = checkText(link.sourceName, `${at}.sourceName`, { max: GRAPH_LIMITS.pinName });
    const sinkName = checkText(link.sinkName, `${at}.sinkName`, { max: GRAPH_LIMITS.pinName });
    const identity = JSON.stringify([link.source, sourceName, link.sink, sinkName]);
    if (seen.has(identity)) throw badUserInput(`Link ${i} duplicates an earlier link.`, at);
    seen.add(identity);
    return { source: link.source, sink: link.sink, sourceName, sinkName, isStatic: link.isStatic ?? false };
  });

  const cycle = findCycle([...keys], links.filter((link) => !link.isStatic));
  if (cycle) throw badUserInput(`The links form a cycle: ${cycle.join(' → ')}. Make one of its links static.`, 'input.links');
  return { name, description, nodes, links };
}

/** A cycle of node keys through the given links, or null (Kahn's algorithm, then a walk to name the cycle). */
function findCycle(keys: string[], links: Array<{ source: string; sink: string }>): string[] | null {
  const outgoing = new Map(keys.map((key) => [key, [] as string[]]));
  const indegree = new Map(keys.map((key) => [key, 0]));
  for (const { source, sink } of links) {
    outgoing.get(source)!.push(sink);
    indegree.set(sink, indegree.get(sink)! + 1);
  }
  const ready = keys.filter((key) => indegree.get(key) === 0);
  let removed = 0;
  while (ready.length) {
    const key = ready.pop()!;
    removed += 1;
    for (const next of outgoing.get(key)!) {
      indegree.set(next, indegree.get(next)! - 1);
      if (indegree.get(next) === 0) ready.push(next);
    }
  }
  if (removed === keys.length) return null;
  // Every node left has an incoming edge from another node left: walking backwards must repeat a node.
  const remaining = new Set(keys.filter((key) => indegree.get(key)! > 0));
  const incoming = new Map<string, string>();
  for (const { source, sink } of links) if (remaining.has(source) && remaining.has(sink)) incoming.set(sink, source);
  const path: string[] = [];
  const position = new Map<string, number>();
  let current = remaining.values().next().value as string;
  while (!position.has(current)) {
    position.set(current, path.length);
    path.push(current);
    current = incoming.get(current)!;
  }
  return [...path.slice(position.get(current)!).reverse(), current];
}
