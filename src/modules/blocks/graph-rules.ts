/**
 * The rules a graph must follow against the block catalogue, as AutoGPT's data layer states them (seed 002,
 * graph.py): every node's block exists, is enabled and agrees with the node's type; a link joins an output port of
 * its source's block to an input port of its sink's block, of compatible types; a node's `inputDefault` sets only its
 * block's input ports, with valid values. Before a run: an entry node exists (a node no link feeds, or an input or
 * trigger node), every node is reachable from one, and every required input is fed by a link or a default.
 *
 * Pure functions over a graph and the blocks it names: every problem is reported, not only the first, each naming the
 * node, the link (its index) and the port, so a client can show them all at once.
 */
import type { Block, NodeType } from '../../generated/prisma/client.js';
import { groupBy } from '../shared/by-id.js';
import { inputPortsOf, outputPortsOf, portValidator, type BlockPort, type PortType } from './block-ports.js';
import { isJsonObject } from '../shared/input.js';

export type GraphRule =
  | 'UNKNOWN_BLOCK'
  | 'DISABLED_BLOCK'
  | 'NODE_TYPE_MISMATCH'
  | 'UNKNOWN_SOURCE_PORT'
  | 'UNKNOWN_SINK_PORT'
  | 'INCOMPATIBLE_PORTS'
  | 'UNKNOWN_INPUT_DEFAULT'
  | 'INVALID_INPUT_DEFAULT'
  | 'NO_ENTRY_NODE'
  | 'UNREACHABLE_NODE'
  | 'MISSING_REQUIRED_INPUT'
  | 'INVALID_RUN_INPUT';

export type GraphProblem = { rule: GraphRule; message: string; node: string | null; link: number | null; port: string | null };

/** A node as the rules see it: `ref` is how problems name it (a client key before a write, the node id after). */
export type RuleNode = { ref: string; blockId: string; nodeType: NodeType; inputDefault: unknown };
export type RuleLink = { source: string; sink: string; sourceName: string; sinkName: string; isStatic: boolean };

/** The most problems reported for one graph: the first ones say what is wrong; thousands would say nothing more. */
export const MAX_GRAPH_PROBLEMS = 200;

/**
 * Whether a value of one of `source`'s types may flow into a port of `sink`'s types. A port with no `type` holds
 * anything: a sink that accepts anything accepts every source, and a source that may hold anything may feed any
 * sink (it cannot be proven wrong before it runs). Otherwise the types must meet, an integer being a number too.
 */
export function portsCompatible(source: readonly PortType[], sink: readonly PortType[]): boolean {
  if (source.length === 0 || sink.length === 0) return true;
  return source.some((type) => sink.includes(type) || (type === 'integer' && sink.includes('number')));
}

type Ports = { inputs: Map<string, BlockPort>; outputs: Map<string, BlockPort> };

function portsByBlock(blocks: ReadonlyMap<string, Block>): Map<string, Ports> {
  const ports = new Map<string, Ports>();
  for (const [id, block] of blocks) {
    ports.set(id, { inputs: new Map(inputPortsOf(block).map((p) => [p.name, p])), outputs: new Map(outputPortsOf(block).map((p) => [p.name, p])) });
  }
  return ports;
}

/** What a graph breaks of the catalogue's rules (the rules every stored graph must follow). */
export function structureProblems(nodes: readonly RuleNode[], links: readonly RuleLink[], blocks: ReadonlyMap<string, Block>): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const add = (problem: GraphProblem) => problems.length < MAX_GRAPH_PROBLEMS && problems.push(problem);
  const ports = portsByBlock(blocks);
  const byRef = new Map(nodes.map((node) => [node.ref, node]));
  const blockOf = (node: RuleNode) => blocks.get(node.blockId.toLowerCase()) ?? null;

  for (const node of nodes) {
    const block = blockOf(node);
    if (!block) {
      add({ rule: 'UNKNOWN_BLOCK', message: `Node ${node.ref}: no block of the catalogue has the id "${node.blockId}".`, node: node.ref, link: null, port: null });
      continue;
    }
    if (block.disabled) add({ rule: 'DISABLED_BLOCK', message: `Node ${node.ref}: the block ${block.name} is disabled.`, node: node.ref, link: null, port: null });
    if (block.nodeType !== node.nodeType) {
      add({ rule: 'NODE_TYPE_MISMATCH', message: `Node ${node.ref} is ${node.nodeType}, but its block ${block.name} runs as ${block.nodeType}.`, node: node.ref, link: null, port: null });
    }
    const inputs = ports.get(block.id)!.inputs;
    if (!isJsonObject(node.inputDefault)) continue;
    for (const [key, value] of Object.entries(node.inputDefault)) {
      const port = inputs.get(key);
      if (!port) {
        add({ rule: 'UNKNOWN_INPUT_DEFAULT', message: `Node ${node.ref}: "${key}" is not an input port of ${block.name}.`, node: node.ref, link: null, port: key });
        continue;
      }
      const validate = portValidator(block, port);
      if (!validate(value)) {
        const why = validate.errors?.map((e) => `${e.instancePath || 'the value'} ${e.message}`).join('; ') ?? 'invalid';
        add({ rule: 'INVALID_INPUT_DEFAULT', message: `Node ${node.ref}: the default of ${block.name}.${key} is invalid (${why}).`, node: node.ref, link: null, port: key });
      }
    }
  }

  links.forEach((link, index) => {
    const source = byRef.get(link.source);
    const sink = byRef.get(link.sink);
    const sourceBlock = source ? blockOf(source) : null;
    const sinkBlock = sink ? blockOf(sink) : null;
    const out = sourceBlock ? ports.get(sourceBlock.id)!.outputs.get(link.sourceName) : undefined;
    const into = sinkBlock ? ports.get(sinkBlock.id)!.inputs.get(link.sinkName) : undefined;
    if (sourceBlock && !out) {
      add({ rule: 'UNKNOWN_SOURCE_PORT', message: `Link ${index}: "${link.sourceName}" is not an output port of ${sourceBlock.name} (node ${link.source}).`, node: link.source, link: index, port: link.sourceName });
    }
    if (sinkBlock && !into) {
      add({ rule: 'UNKNOWN_SINK_PORT', message: `Link ${index}: "${link.sinkName}" is not an input port of ${sinkBlock.name} (node ${link.sink}).`, node: link.sink, link: index, port: link.sinkName });
    }
    if (out && into && !portsCompatible(out.types, into.types)) {
      add({
        rule: 'INCOMPATIBLE_PORTS',
        message: `Link ${index}: ${sourceBlock!.name}.${out.name} (${out.types.join(' | ')}) cannot feed ${sinkBlock!.name}.${into.name} (${into.types.join(' | ')}).`,
        node: link.sink,
        link: index,
        port: link.sinkName,
      });
    }
  });
  return problems;
}

/** Keywords of a port schema that say what it is without constraining its values. */
const ANNOTATIONS = new Set(['description', 'title', 'examples', 'default', '$comment', 'deprecated', 'readOnly', 'writeOnly']);

/**
 * Whether a run's inputs could change whether a graph runs: an input node whose block's `value` port is required or
 * constrains its values. When none does, a graph without `runProblems` runs with any inputs.
 */
export function runInputsMatter(nodes: readonly RuleNode[], blocks: ReadonlyMap<string, Block>): boolean {
  return nodes.some((node) => {
    const block = node.nodeType === 'INPUT' ? blocks.get(node.blockId.toLowerCase()) : undefined;
    const port = block ? inputPortsOf(block).find((p) => p.name === 'value') : undefined;
    return port !== undefined && (port.required || Object.keys(port.schema).some((keyword) => !ANNOTATIONS.has(keyword)));
  });
}

/** The run's value for an input node (named by its default's `name`), if the run's inputs have one. */
function runInputOf(defaults: Record<string, unknown>, inputs: Readonly<Record<string, unknown>> | undefined): { name: string; value: unknown } | undefined {
  const name = defaults.name;
  if (inputs === undefined || typeof name !== 'string' || !Object.hasOwn(inputs, name)) return undefined;
  return { name, value: inputs[name] };
}

/** Entry nodes: those no link feeds, and input and trigger nodes (their values come from outside the graph). */
export function entryNodes(nodes: readonly RuleNode[], links: readonly RuleLink[]): RuleNode[] {
  const fed = new Set(links.map((link) => link.sink));
  return nodes.filter((node) => !fed.has(node.ref) || node.nodeType === 'INPUT' || node.nodeType === 'WEBHOOK');
}

/**
 * What keeps a graph from running (besides `structureProblems`): entry, reachability, required inputs. With the run's
 * `inputs` (keyed by input nodes' `name`, as AutoGPT's graph inputs are), an input node's value comes from them and
 * must be valid for its block; keys that name no input node are ignored. Without them (a stored graph's problems),
 * input nodes are assumed to get their values from the run.
 */
export function runProblems(nodes: readonly RuleNode[], links: readonly RuleLink[], blocks: ReadonlyMap<string, Block>, inputs?: Readonly<Record<string, unknown>>): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const add = (problem: GraphProblem) => problems.length < MAX_GRAPH_PROBLEMS && problems.push(problem);
  const entries = entryNodes(nodes, links);
  if (entries.length === 0) add({ rule: 'NO_ENTRY_NODE', message: 'The graph has no entry node: every node is fed by a link, and none is an input or a trigger.', node: null, link: null, port: null });

  const outgoing = groupBy(links, (link) => link.source);
  const reached = new Set(entries.map((node) => node.ref));
  const queue = [...reached];
  while (queue.length > 0) {
    for (const { sink } of outgoing.get(queue.pop()!) ?? []) {
      if (!reached.has(sink)) {
        reached.add(sink);
        queue.push(sink);
      }
    }
  }
  for (const node of nodes) {
    if (!reached.has(node.ref)) add({ rule: 'UNREACHABLE_NODE', message: `Node ${node.ref} cannot be reached from an entry node.`, node: node.ref, link: null, port: null });
  }

  const fedPorts = new Set(links.map((link) => `${link.sink}\u0000${link.sinkName}`));
  for (const node of nodes) {
    const block = blocks.get(node.blockId.toLowerCase());
    if (!block) continue;
    const defaults = isJsonObject(node.inputDefault) ? node.inputDefault : {};
    const runInput = node.nodeType === 'INPUT' ? runInputOf(defaults, inputs) : undefined;
    for (const port of inputPortsOf(block)) {
      const fromRun = node.nodeType === 'INPUT' && port.name === 'value';
      if (fromRun && runInput !== undefined) {
        const validate = portValidator(block, port);
        if (!validate(runInput.value)) {
          const why = validate.errors?.map((e) => `${e.instancePath || 'the value'} ${e.message}`).join('; ') ?? 'invalid';
          add({ rule: 'INVALID_RUN_INPUT', message: `Node ${node.ref}: the run's input "${runInput.name}" is invalid for ${block.name}.${port.name} (${why}).`, node: node.ref, link: null, port: port.name });
        }
        continue;
      }
      if (!port.required || port.name in defaults || fedPorts.has(`${node.ref}\u0000${port.name}`)) continue;
      // Without the run's inputs, an input node's value is taken to come with the run.
      if (fromRun && inputs === undefined) continue;
      add({
        rule: 'MISSING_REQUIRED_INPUT',
        message: fromRun
          ? `Node ${node.ref}: the required input ${block.name}.${port.name} has no default, and the run's inputs have no "${String(defaults.name ?? '')}".`
          : `Node ${node.ref}: the required input ${block.name}.${port.name} is fed by no link and has no default.`,
        node: node.ref,
        link: null,
        port: port.name,
      });
    }
  }
  return problems;
}
